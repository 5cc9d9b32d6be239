"""the offer book, licences, the settlement escrow's records, the sale's allow-list proofs and investors; chain events name their contract

Revision ID: 0012_market
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa


revision = "0012_market"
down_revision = "0002"
branch_labels = None
depends_on = None

ADDRESS = sa.String(length=42)
HASH = sa.String(length=66)
AMOUNT = sa.String(length=78)


def _chain_columns() -> list:
    return [sa.Column("tx_hash", HASH, nullable=False), sa.Column("block_number", sa.BigInteger(), nullable=False)]


def upgrade() -> None:
    with op.batch_alter_table("chain_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contract", sa.String(length=40), nullable=False,
                                      server_default="CopyrightRegister"))
        batch_op.create_index("ix_chain_events_contract", ["contract"])
    op.create_table(
        "offers",
        sa.Column("hash", HASH, primary_key=True),
        sa.Column("seller", ADDRESS, nullable=False, index=True),
        sa.Column("buyer", ADDRESS, nullable=False),
        sa.Column("registration_id", HASH, nullable=False, index=True),
        sa.Column("licence_type", sa.String(length=20), nullable=False, index=True),
        sa.Column("countries", sa.String(length=48), nullable=False),
        sa.Column("duration", sa.BigInteger(), nullable=False),
        sa.Column("currency", ADDRESS, nullable=False, index=True),
        sa.Column("price", AMOUNT, nullable=False),
        sa.Column("price_key", sa.String(length=78), nullable=False, index=True),
        sa.Column("max_sales", sa.BigInteger(), nullable=False),
        sa.Column("expiry", sa.BigInteger(), nullable=False, index=True),
        sa.Column("counter", AMOUNT, nullable=False),
        sa.Column("message", sa.JSON(), nullable=False),
        sa.Column("signature", sa.String(length=132), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    op.create_index("ix_offers_registration_seller", "offers", ["registration_id", "seller"])
    op.create_table(
        "licences",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("registration_id", HASH, nullable=False, index=True),
        sa.Column("licensee", ADDRESS, nullable=False, index=True),
        sa.Column("seller", ADDRESS, nullable=False, index=True),
        sa.Column("offer_hash", HASH, nullable=False, index=True),
        sa.Column("licence_type", sa.String(length=20), nullable=False),
        sa.Column("countries", sa.String(length=48), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.BigInteger(), nullable=False),
        sa.Column("ends_at", sa.BigInteger(), nullable=True),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("currency", ADDRESS, nullable=False),
        sa.Column("price", AMOUNT, nullable=False),
        sa.Column("fee", AMOUNT, nullable=False),
        sa.Column("release_at", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False, index=True),
        sa.Column("dispute_reason", sa.Text(), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.Column("refunded", AMOUNT, nullable=True),
        sa.Column("released_to_seller", AMOUNT, nullable=True),
        *_chain_columns(),
    )
    op.create_table(
        "offer_cancellations",
        sa.Column("offer_hash", HASH, primary_key=True),
        sa.Column("seller", ADDRESS, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "seller_counters",
        sa.Column("seller", ADDRESS, primary_key=True),
        sa.Column("counter", AMOUNT, nullable=False),
    )
    op.create_table(
        "withdrawals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("contract", sa.String(length=40), nullable=False),
        sa.Column("account", ADDRESS, nullable=False, index=True),
        sa.Column("asset", ADDRESS, nullable=False),
        sa.Column("amount", AMOUNT, nullable=False),
        *_chain_columns(),
    )
    op.create_table(
        "mandates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("owner", ADDRESS, nullable=False, index=True),
        sa.Column("registration_id", HASH, nullable=True),
        sa.Column("expiry", sa.BigInteger(), nullable=False),
        sa.Column("nonce", AMOUNT, nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        *_chain_columns(),
    )
    op.create_table(
        "cases",
        sa.Column("reference", HASH, primary_key=True),
        sa.Column("registration_id", HASH, nullable=False, index=True),
        sa.Column("rights_holder", ADDRESS, nullable=False, index=True),
        sa.Column("asset", ADDRESS, nullable=False),
        sa.Column("amount_due", AMOUNT, nullable=False),
        sa.Column("amount_paid", AMOUNT, nullable=False),
        sa.Column("commission_bps", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=30), nullable=False),
        sa.Column("case_manager", ADDRESS, nullable=False),
        *_chain_columns(),
    )
    op.create_table(
        "case_payments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reference", HASH, nullable=False, index=True),
        sa.Column("payer", ADDRESS, nullable=False),
        sa.Column("amount", AMOUNT, nullable=False),
        sa.Column("to_rights_holder", AMOUNT, nullable=False),
        sa.Column("commission", AMOUNT, nullable=False),
        sa.Column("outstanding", AMOUNT, nullable=False),
        *_chain_columns(),
    )
    op.create_table(
        "case_steps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reference", HASH, nullable=False, index=True),
        sa.Column("step", sa.String(length=30), nullable=False),
        sa.Column("previous_step", sa.String(length=30), nullable=False),
        sa.Column("document_hash", HASH, nullable=False),
        sa.Column("actor", ADDRESS, nullable=False),
        *_chain_columns(),
    )
    op.create_table(
        "sale_allow_list_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("root", HASH, nullable=False, index=True),
        sa.Column("investor", ADDRESS, nullable=False, index=True),
        sa.Column("proof", sa.JSON(), nullable=False),
        sa.UniqueConstraint("root", "investor"),
    )
    op.create_table(
        "sale_investors",
        sa.Column("address", ADDRESS, primary_key=True),
        sa.Column("allow_listed_by", sa.String(length=10), nullable=True),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("contributed", AMOUNT, nullable=False),
        sa.Column("tokens_bought", AMOUNT, nullable=False),
        sa.Column("claimed", AMOUNT, nullable=False),
        sa.Column("refunded", AMOUNT, nullable=False),
    )


def downgrade() -> None:
    for table in ("sale_investors", "sale_allow_list_entries", "case_steps", "case_payments", "cases", "mandates", "withdrawals", "seller_counters",
                  "offer_cancellations", "licences", "offers"):
        op.drop_table(table)
    with op.batch_alter_table("chain_events", schema=None) as batch_op:
        batch_op.drop_index("ix_chain_events_contract")
        batch_op.drop_column("contract")
