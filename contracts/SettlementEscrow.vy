# pragma version ~=0.4.3
"""
@title Copytrack Settlement Escrow
@license GNU Affero General Public License v3.0 or later
@notice On-chain settlement of infringement cases.

        Mandate: the owner of a registration signs an EIP-712 `Mandate`
        naming the platform (`AGENT`) as their agent, for one registration
        (`registration_id`) or for all of their registrations
        (`registration_id` 0; real ids are SHA-256 content hashes and never
        0), until `expiry`. Anyone may record a signed mandate with
        `submit_mandate`; letter recipients check it with `has_mandate`.
        A recorded mandate can only be extended by re-submitting; the owner
        shortens or ends all their mandates with `revoke_mandates`.

        Cases: a CASE_MANAGER opens a case only for a registration with a
        valid mandate of its current owner, and only once the register's
        claim window (`MAX_COMMITMENT_AGE` after the priority time, during
        which the registration can still pass to the revealer of an earlier
        commitment) is over. While the rights-holder's mandate is revoked or
        expired, the platform can no longer act on their open cases: no
        escalation step (except CLOSED) and no commission rise. Payments
        stay possible, so an infringer can always settle what a letter
        asked; they are split at the commission already agreed.

        Payments: anyone may pay a case in its asset (ETH or CPY); partial
        payments add up. A payment counts for at most what is outstanding,
        so nobody can block a settlement by paying a little first: of an
        ETH payment the rest is credited back to the payer (withdraw it),
        of a CPY payment only what is due is pulled. Each payment is split
        at once into withdrawable credits: the commission for the treasury,
        the rest for the rights-holder. The commission is rounded down on
        the running total, not per payment (the exact commission accrued,
        sum of amount x commission_bps, is known per case from a snapshot
        taken at each commission rise), so tiny instalments carry their
        share and the split of a case does not depend on how it was paid. The case is settled when fully paid.

        Escalation ladder (steps only move forward, each one logged):
        1 post-licensing letter, 2 invoice, 3 legal letter (partner
        lawyer), 4 court claim, 5 settled (reached by full payment only),
        6 closed. The legal letter and the court claim are logged with the
        hash of their document. The commission is MIN_COMMISSION_BPS (3000)
        when the case opens and may rise, up to MAX_COMMISSION_BPS (5000),
        once a legal letter or court claim has been logged.
"""

from ethereum.ercs import IERC20

from snekmate.auth import access_control
from snekmate.utils import eip712_domain_separator
from snekmate.utils import signature_checker

initializes: access_control
initializes: eip712_domain_separator

exports: (
    access_control.supportsInterface,
    access_control.DEFAULT_ADMIN_ROLE,
    access_control.hasRole,
    access_control.getRoleAdmin,
    access_control.grantRole,
    access_control.revokeRole,
    access_control.renounceRole,
    access_control.set_role_admin,
    eip712_domain_separator.eip712Domain,
)


# @dev A registration as the register's `registration` returns it.
struct Registration:
    owner: address
    registered_at: uint256
    phash: uint64
    parent: uint256


interface Register:
    def owner_of(id: uint256) -> address: view
    def registration(id: uint256) -> Registration: view
    def MAX_COMMITMENT_AGE() -> uint256: view


# @dev Escalation steps.
OPENED: public(constant(uint8)) = 0
POST_LICENSING_LETTER: public(constant(uint8)) = 1
INVOICE: public(constant(uint8)) = 2
LEGAL_LETTER: public(constant(uint8)) = 3
COURT_CLAIM: public(constant(uint8)) = 4
SETTLED: public(constant(uint8)) = 5
CLOSED: public(constant(uint8)) = 6

# @dev Commission bounds in basis points.
MIN_COMMISSION_BPS: public(constant(uint256)) = 3_000
MAX_COMMISSION_BPS: public(constant(uint256)) = 5_000
BPS: constant(uint256) = 10_000

# @dev The role of the platform's enforcement pipeline.
CASE_MANAGER_ROLE: public(constant(bytes32)) = keccak256("CASE_MANAGER_ROLE")

# @dev EIP-712 type hash of a mandate.
MANDATE_TYPEHASH: public(constant(bytes32)) = keccak256(
    "Mandate(address owner,address agent,uint256 registration_id,uint256 expiry,uint256 nonce)"
)


# @dev What an owner signs (EIP-712 primary type `Mandate`).
struct Mandate:
    owner: address
    agent: address
    registration_id: uint256  # 0 = all of the owner's registrations
    expiry: uint256
    nonce: uint256


# @dev A recorded mandate: valid while unexpired and its nonce is the owner's current one.
struct MandateRecord:
    expiry: uint256
    nonce: uint256


# @dev An infringement case.
struct Case:
    registration_id: uint256
    rights_holder: address
    asset: address  # empty(address) = ETH, else the CPY token
    amount_due: uint256
    amount_paid: uint256
    commission_bps: uint256
    step: uint8
    opened_at: uint256


# @dev The register whose `owner_of` names the rights-holder.
REGISTER: public(immutable(address))
# @dev The register's claim window (`MAX_COMMITMENT_AGE`), read at deployment.
CLAIM_WINDOW: public(immutable(uint256))
# @dev The CPY token, the only ERC-20 accepted as payment.
CPY: public(immutable(address))
# @dev The platform's address that mandates must name as agent.
AGENT: public(immutable(address))

# @dev Receives commissions.
treasury: public(address)

# @dev Current mandate nonce of an owner; bumping it revokes their mandates.
mandate_nonce: public(HashMap[address, uint256])
# @dev Recorded mandates: owner => scope (registration id, 0 = all) => expiry and nonce.
_mandates: HashMap[address, HashMap[uint256, MandateRecord]]

# @dev Cases by reference (read through `case`).
_cases: HashMap[bytes32, Case]
# @dev Number of cases opened.
case_count: public(uint256)

# @dev Withdrawable balances: account => asset (empty(address) = ETH) => amount.
credit: public(HashMap[address, HashMap[address, uint256]])
# @dev Exact commission accrued by a case (basis-point units) when its commission last rose; read only after a rise.
_accrued_at_rise: HashMap[bytes32, uint256]
# @dev Amount a case had been paid when its commission last rose.
_paid_at_rise: HashMap[bytes32, uint256]


# @dev Emitted when a signed mandate is recorded.
event MandateRecorded:
    owner: indexed(address)
    registration_id: indexed(uint256)
    expiry: uint256
    nonce: uint256

# @dev Emitted when an owner revokes all their mandates.
event MandatesRevoked:
    owner: indexed(address)
    nonce: uint256

# @dev Emitted when a case is opened.
event CaseOpened:
    reference: indexed(bytes32)
    registration_id: indexed(uint256)
    rights_holder: indexed(address)
    asset: address
    amount_due: uint256
    commission_bps: uint256
    case_manager: address

# @dev Emitted for every payment towards a case.
event CasePaid:
    reference: indexed(bytes32)
    payer: indexed(address)
    amount: uint256
    to_rights_holder: uint256
    commission: uint256
    outstanding: uint256

# @dev Emitted when a payment exceeded what was outstanding and the rest was credited back to the payer (ETH only).
event OverpaymentCredited:
    reference: indexed(bytes32)
    payer: indexed(address)
    amount: uint256

# @dev Emitted for every escalation step, so the rights-holder sees what was done in their name.
event StepLogged:
    reference: indexed(bytes32)
    step: indexed(uint8)
    previous_step: uint8
    document_hash: bytes32
    actor: address

# @dev Emitted when the commission rises after a partner lawyer got involved.
event CommissionRaised:
    reference: indexed(bytes32)
    previous_bps: uint256
    new_bps: uint256

# @dev Emitted when an account withdraws its credit.
event Withdrawn:
    account: indexed(address)
    asset: indexed(address)
    amount: uint256

# @dev Emitted when the admin changes the treasury.
event TreasuryChanged:
    previous_treasury: address
    new_treasury: address


@deploy
def __init__(register: address, cpy_token: address, treasury: address, agent: address):
    """
    @dev The deployer holds DEFAULT_ADMIN_ROLE and CASE_MANAGER_ROLE.
    @param register The copyright register (`owner_of`, `registration`, `MAX_COMMITMENT_AGE`).
    @param cpy_token The CPY token accepted besides ETH.
    @param treasury The account credited with commissions.
    @param agent The platform address that mandates name as agent.
    """
    assert register != empty(address), "settlement: register is the zero address"
    assert cpy_token != empty(address), "settlement: CPY token is the zero address"
    assert treasury != empty(address), "settlement: treasury is the zero address"
    assert agent != empty(address), "settlement: agent is the zero address"
    access_control.__init__()
    eip712_domain_separator.__init__("Copytrack Settlement", "1")
    access_control._grant_role(CASE_MANAGER_ROLE, msg.sender)
    REGISTER = register
    CLAIM_WINDOW = staticcall Register(register).MAX_COMMITMENT_AGE()
    CPY = cpy_token
    AGENT = agent
    self.treasury = treasury


@external
@view
def mandate_hash(mandate: Mandate) -> bytes32:
    """
    @dev The EIP-712 digest an owner signs for `mandate`.
    @param mandate The mandate.
    @return bytes32 The typed-data digest (domain separator included).
    """
    return self._mandate_digest(mandate)


@external
@view
def verify_mandate(mandate: Mandate, signature: Bytes[65]) -> bool:
    """
    @dev Whether a signed mandate is valid now: an owner, the platform as
         agent, unexpired, the owner's current nonce, a valid signature, and
         for a single registration, the signer owns it now.
    @param mandate The mandate.
    @param signature The owner's signature (ERC-1271 for contracts).
    @return bool True when valid.
    """
    if mandate.owner == empty(address):
        return False
    if mandate.registration_id != 0 and staticcall Register(REGISTER).owner_of(mandate.registration_id) != mandate.owner:
        return False
    return (
        mandate.agent == AGENT
        and mandate.expiry > block.timestamp
        and mandate.nonce == self.mandate_nonce[mandate.owner]
        and signature_checker._is_valid_signature_now(mandate.owner, self._mandate_digest(mandate), signature)
    )


@external
def submit_mandate(mandate: Mandate, signature: Bytes[65]):
    """
    @dev Records a signed mandate on-chain; anyone may submit it. A
         mandate already recorded for the same scope and nonce is only
         replaced by one that runs longer (shorten with `revoke_mandates`).
    @param mandate The mandate the owner signed.
    @param signature The owner's signature (ERC-1271 for contracts).
    """
    assert mandate.owner != empty(address), "settlement: mandate has no owner"
    assert mandate.agent == AGENT, "settlement: mandate names another agent"
    assert mandate.expiry > block.timestamp, "settlement: mandate expired"
    assert mandate.nonce == self.mandate_nonce[mandate.owner], "settlement: mandate revoked"
    assert signature_checker._is_valid_signature_now(mandate.owner, self._mandate_digest(mandate), signature), "settlement: invalid mandate signature"
    recorded: MandateRecord = self._mandates[mandate.owner][mandate.registration_id]
    if recorded.nonce == mandate.nonce:
        assert mandate.expiry > recorded.expiry, "settlement: a recorded mandate already runs as long (revoke to shorten)"
    self._mandates[mandate.owner][mandate.registration_id] = MandateRecord(expiry=mandate.expiry, nonce=mandate.nonce)
    log MandateRecorded(owner=mandate.owner, registration_id=mandate.registration_id, expiry=mandate.expiry, nonce=mandate.nonce)


@external
def revoke_mandates() -> uint256:
    """
    @dev Revokes every mandate the caller signed so far. Open cases stay
         open and payable, but the platform can no longer escalate them or
         raise their commission, only close them.
    @return uint256 The new nonce to put into new mandates.
    """
    nonce: uint256 = self.mandate_nonce[msg.sender] + 1
    self.mandate_nonce[msg.sender] = nonce
    log MandatesRevoked(owner=msg.sender, nonce=nonce)
    return nonce


@external
@view
def has_mandate(registration_id: uint256) -> bool:
    """
    @dev Whether the current owner of `registration_id` has mandated the
         platform for it now (a mandate for it or for all their registrations).
    @param registration_id The registration.
    @return bool True when mandated.
    """
    return self._has_mandate(staticcall Register(REGISTER).owner_of(registration_id), registration_id)


@external
@view
def mandate_of(owner: address, registration_id: uint256) -> MandateRecord:
    """
    @dev The recorded mandate of `owner` for `registration_id` (0 = all).
    @param owner The owner.
    @param registration_id The scope.
    @return MandateRecord Expiry and nonce (zero when none recorded).
    """
    return self._mandates[owner][registration_id]


@external
def open_case(
    reference: bytes32,
    registration_id: uint256,
    rights_holder: address,
    amount_due: uint256,
    asset: address,
):
    """
    @dev Opens a case (CASE_MANAGER only) for a mandated registration
         past its claim window, at MIN_COMMISSION_BPS.
    @param reference The case reference printed in the letters; unique, non-zero.
    @param registration_id The infringed registration.
    @param rights_holder Its current owner, who receives the settlement.
    @param amount_due The settlement amount in `asset` units (below 2**128).
    @param asset empty(address) for ETH, else the CPY token.
    """
    access_control._check_role(CASE_MANAGER_ROLE, msg.sender)
    assert reference != empty(bytes32), "settlement: empty case reference"
    assert self._cases[reference].rights_holder == empty(address), "settlement: case reference already used"
    assert amount_due != 0, "settlement: amount due is zero"
    # The commission is summed as amount x basis points; below 2**128 that can never overflow.
    assert amount_due < 2**128, "settlement: amount due must be below 2**128"
    assert asset == empty(address) or asset == CPY, "settlement: unsupported asset"
    registration: Registration = staticcall Register(REGISTER).registration(registration_id)
    owner: address = registration.owner
    assert owner != empty(address), "settlement: unknown registration"
    assert rights_holder == owner, "settlement: rights-holder is not the registration owner"
    assert block.timestamp >= registration.registered_at + CLAIM_WINDOW, "settlement: registration still in its claim window"
    assert self._has_mandate(owner, registration_id), "settlement: no valid mandate from the owner"
    self._cases[reference] = Case(
        registration_id=registration_id,
        rights_holder=rights_holder,
        asset=asset,
        amount_due=amount_due,
        amount_paid=0,
        commission_bps=MIN_COMMISSION_BPS,
        step=OPENED,
        opened_at=block.timestamp,
    )
    self.case_count += 1
    log CaseOpened(
        reference=reference,
        registration_id=registration_id,
        rights_holder=rights_holder,
        asset=asset,
        amount_due=amount_due,
        commission_bps=MIN_COMMISSION_BPS,
        case_manager=msg.sender,
    )


@external
@view
def case(reference: bytes32) -> Case:
    """
    @dev A case as recorded.
    @param reference The case reference.
    @return Case The case (rights_holder empty when unknown).
    """
    return self._cases[reference]


@external
@view
def outstanding(reference: bytes32) -> uint256:
    """
    @dev What is still due on a case.
    @param reference The case reference.
    @return uint256 amount_due - amount_paid.
    """
    c: Case = self._cases[reference]
    return c.amount_due - c.amount_paid


@external
def log_step(reference: bytes32, step: uint8, document_hash: bytes32):
    """
    @dev Logs an escalation step (CASE_MANAGER only); steps only move
         forward; SETTLED is reached by payment, not logged by hand. Only
         CLOSED may be logged once the rights-holder's mandate is revoked
         or expired.
    @param reference The case reference.
    @param step POST_LICENSING_LETTER, INVOICE, LEGAL_LETTER, COURT_CLAIM or CLOSED.
    @param document_hash Hash of the letter, invoice or filing sent
           (required for LEGAL_LETTER and COURT_CLAIM, else may be zero).
    """
    access_control._check_role(CASE_MANAGER_ROLE, msg.sender)
    c: Case = self._existing_case(reference)
    previous: uint8 = c.step
    assert step != SETTLED, "settlement: a case is settled by full payment only"
    assert step <= CLOSED, "settlement: unknown step"
    assert step > previous, "settlement: steps only move forward"
    if step == LEGAL_LETTER or step == COURT_CLAIM:
        assert document_hash != empty(bytes32), "settlement: a legal letter or court claim needs its document hash"
    if step != CLOSED:
        self._check_case_mandate(c)
    self._cases[reference].step = step
    log StepLogged(reference=reference, step=step, previous_step=previous, document_hash=document_hash, actor=msg.sender)


@external
def raise_commission(reference: bytes32, new_bps: uint256):
    """
    @dev Raises the commission for future payments once a partner lawyer
         is involved (a legal letter or court claim logged with its document
         hash; CASE_MANAGER only), while the rights-holder's mandate holds.
    @param reference The case reference.
    @param new_bps The new commission, above the current one and at most 5000.
    """
    access_control._check_role(CASE_MANAGER_ROLE, msg.sender)
    c: Case = self._existing_case(reference)
    assert c.step == LEGAL_LETTER or c.step == COURT_CLAIM, "settlement: commission rises only at the legal letter or court claim step"
    self._check_case_mandate(c)
    assert new_bps > c.commission_bps, "settlement: commission can only rise"
    assert new_bps <= MAX_COMMISSION_BPS, "settlement: commission above 5000 bps"
    self._accrued_at_rise[reference] = self._accrued(reference, c, c.amount_paid)
    self._paid_at_rise[reference] = c.amount_paid
    self._cases[reference].commission_bps = new_bps
    log CommissionRaised(reference=reference, previous_bps=c.commission_bps, new_bps=new_bps)


@external
@payable
@nonreentrant
def pay(reference: bytes32, amount: uint256):
    """
    @dev Pays towards a case; anyone may pay. ETH goes as msg.value (equal
         to `amount`); CPY is pulled through an allowance. The payment
         counts for at most what is outstanding: the rest of an ETH payment
         is credited to the payer (`withdraw`), of CPY only what is due is
         pulled.
    @param reference The case reference from the letter.
    @param amount The amount offered; what is outstanding is taken of it.
    """
    c: Case = self._existing_case(reference)
    assert c.step != SETTLED, "settlement: case already settled"
    assert c.step != CLOSED, "settlement: case is closed"
    assert amount != 0, "settlement: payment is zero"
    if c.asset == empty(address):
        assert msg.value == amount, "settlement: sent ETH differs from the amount"
    else:
        assert msg.value == 0, "settlement: ETH sent for a CPY case"
    outstanding: uint256 = c.amount_due - c.amount_paid
    paid: uint256 = min(amount, outstanding)

    commission: uint256 = self._accrued(reference, c, c.amount_paid + paid) // BPS - self._accrued(reference, c, c.amount_paid) // BPS
    to_rights_holder: uint256 = paid - commission
    self._cases[reference].amount_paid = c.amount_paid + paid
    self.credit[c.rights_holder][c.asset] += to_rights_holder
    self.credit[self.treasury][c.asset] += commission
    log CasePaid(
        reference=reference,
        payer=msg.sender,
        amount=paid,
        to_rights_holder=to_rights_holder,
        commission=commission,
        outstanding=outstanding - paid,
    )
    if paid == outstanding:
        self._cases[reference].step = SETTLED
        log StepLogged(reference=reference, step=SETTLED, previous_step=c.step, document_hash=empty(bytes32), actor=msg.sender)
    if c.asset == empty(address) and amount > paid:
        self.credit[msg.sender][c.asset] += amount - paid
        log OverpaymentCredited(reference=reference, payer=msg.sender, amount=amount - paid)

    if c.asset != empty(address):
        before: uint256 = staticcall IERC20(CPY).balanceOf(self)
        assert extcall IERC20(CPY).transferFrom(msg.sender, self, paid, default_return_value=True), "settlement: token transfer failed"
        assert staticcall IERC20(CPY).balanceOf(self) == before + paid, "settlement: token transfer delivered less than the amount"


@external
@nonreentrant
def withdraw(asset: address):
    """
    @dev Sends the caller everything credited to them in `asset`.
    @param asset empty(address) for ETH, else the CPY token.
    """
    assert asset == empty(address) or asset == CPY, "settlement: unsupported asset"
    amount: uint256 = self.credit[msg.sender][asset]
    assert amount != 0, "settlement: nothing to withdraw"
    self.credit[msg.sender][asset] = 0
    log Withdrawn(account=msg.sender, asset=asset, amount=amount)
    if asset == empty(address):
        ok: bool = raw_call(msg.sender, b"", value=amount, revert_on_failure=False)
        assert ok, "settlement: ETH transfer failed"
    else:
        assert extcall IERC20(asset).transfer(msg.sender, amount, default_return_value=True), "settlement: token transfer failed"


@external
def set_treasury(new_treasury: address):
    """
    @dev Changes the account credited with commissions (admin only).
    @param new_treasury The new treasury.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert new_treasury != empty(address), "settlement: treasury is the zero address"
    log TreasuryChanged(previous_treasury=self.treasury, new_treasury=new_treasury)
    self.treasury = new_treasury


@external
@view
def commission_accrued(reference: bytes32) -> uint256:
    """
    @dev The exact commission a case has accrued, in basis-point units:
         the sum of amount x commission_bps over its payments. What the
         treasury was credited is this divided by 10,000, rounded down.
    @param reference The case reference.
    @return uint256 The accrued commission times 10,000.
    """
    c: Case = self._cases[reference]
    return self._accrued(reference, c, c.amount_paid)


@internal
@view
def _accrued(reference: bytes32, c: Case, amount_paid: uint256) -> uint256:
    if c.commission_bps == MIN_COMMISSION_BPS:
        return amount_paid * MIN_COMMISSION_BPS
    paid_at_rise: uint256 = self._paid_at_rise[reference]
    return self._accrued_at_rise[reference] + (amount_paid - paid_at_rise) * c.commission_bps


@internal
@view
def _mandate_digest(mandate: Mandate) -> bytes32:
    return eip712_domain_separator._hash_typed_data_v4(
        keccak256(
            abi_encode(
                MANDATE_TYPEHASH, mandate.owner, mandate.agent, mandate.registration_id, mandate.expiry, mandate.nonce
            )
        )
    )


@internal
@view
def _has_mandate(owner: address, registration_id: uint256) -> bool:
    if owner == empty(address):
        return False
    nonce: uint256 = self.mandate_nonce[owner]
    for scope: uint256 in [registration_id, 0]:
        record: MandateRecord = self._mandates[owner][scope]
        if record.expiry > block.timestamp and record.nonce == nonce:
            return True
    return False


@internal
@view
def _check_case_mandate(c: Case):
    assert self._has_mandate(c.rights_holder, c.registration_id), "settlement: the rights-holder's mandate is revoked or expired"


@internal
@view
def _existing_case(reference: bytes32) -> Case:
    c: Case = self._cases[reference]
    assert c.rights_holder != empty(address), "settlement: unknown case"
    return c
