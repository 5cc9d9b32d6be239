# pragma version ~=0.4.3
# pragma optimize codesize
"""
@title Copytrack Licence Market
@license GNU Affero General Public License v3.0 or later
@notice Licences for registered images, sold from EIP-712-signed offers.
        The owner of a registration signs an `Offer` off-chain (it costs
        nothing to publish, like a Seaport order); a buyer presents the
        offer and its signature to `buy`. The purchase price goes into
        escrow and the licence is recorded on-chain at once, so
        `is_licensed` answers for it immediately.

        Storage: a licence keeps on-chain one word (`_holdings`): what
        `is_licensed` reads (its times and state) and a 160-bit hash of
        the terms its escrow pays out on (licensee, seller, currency,
        price, and the hash of the block before the purchase's). `dispute`, `seller_refund`, `revoke`, `resolve` and
        `release` take those `Terms` and check them against the hash;
        every term of the certificate (offer hash, territory, seats,
        domains, price, fee) is in the `LicencePurchased` event, as the
        register does with its CID. The
        domains a licence covers are indexed by keccak256(registration,
        licensee, domain) so `is_licensed` finds them without storing the
        list. The fee, treasury and dispute window in force at purchase
        are an "epoch" (a new one on every admin change) that the licence
        points to.

        Claim window: the register lets the revealer of an earlier
        commitment take a registration over for `MAX_COMMITMENT_AGE` after
        its priority time. No licence is sold in that window, so a copier
        who registered someone else's image first cannot sell licences
        that would outlive the author's claim.

        Money: the price stays in escrow for the dispute window. Within the
        window the buyer may `dispute` and the seller may refund the buyer
        in full (`seller_refund`, also while the buyer's dispute runs, but
        never once the arbiter froze the escrow); after it the licence is
        final for buyer and seller, whether or not anyone calls `release`. A disputed escrow waits for the arbiter (ARBITER_ROLE),
        who refunds the buyer (the licence is revoked) or releases it; if
        the arbiter has not decided `ARBITRATION_PERIOD` after the dispute,
        anyone may release it to the seller. An undisputed escrow may be
        released by anyone `RELEASE_GRACE_PERIOD` after the window: in that
        grace the arbiter can still `freeze` it (FROZEN: like a dispute,
        except that the seller cannot refund and take the licence back) or
        `revoke` the licence, so a fraudulent seller cannot release and
        withdraw ahead of a pending revocation. On release the platform fee
        (basis points, fixed at purchase) is credited to the treasury
        recorded at purchase and the rest to the seller. Every credit is a
        pull payment: `withdraw(asset)`.

        Revocation: a licence refunded by the seller or by the arbiter's
        decision on a dispute still counts as valid for the time before
        its revocation (`is_licensed` for an earlier moment stays true);
        the arbiter's `revoke` for fraud voids it from the start, also a
        licence the seller already refunded.

        Offers may be reserved for one buyer (`buyer`, empty = anyone) and
        cap the platform fee the seller accepts (`max_fee_bps`).

        Offers stop being valid when they expire, when the seller cancels
        them (one by one, or all at once by bumping their counter), when
        they have been sold `max_sales` times, and when the signer no
        longer owns the registration.

        Territory encoding: `bytes32`; all zero means worldwide; otherwise
        up to 16 ISO 3166-1 alpha-2 codes as upper-case ASCII pairs packed
        from the left (`b"DEFRAT"` padded with zero bytes), no gaps.

        Exclusivity (deliberately simple): an exclusive licence can only
        be bought while no other licence of the registration runs; while
        an exclusive licence runs, no licence whose territory overlaps its
        territory can be bought. Several exclusive licences for disjoint
        territories may run together. A revoked or refunded perpetual
        licence stops blocking at once; a revoked timed licence keeps
        blocking exclusive licences until it would have ended, unless
        someone has the latest end recounted (`recount_licensed_until`,
        paged, anyone may call it).

        Bounds of the packing: prices below 2**96, licences bought and
        ending before 2**36 seconds (the year 4147), 2**40 - 1 licences, 65,535 changes of
        fee, treasury or window.
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


interface Register:
    def ownership(id: uint256) -> (address, uint256): view
    def MAX_COMMITMENT_AGE() -> uint256: view


# @dev Most domains one licence can cover.
MAX_DOMAINS: constant(uint256) = 8
# @dev Most exclusive licences of one registration running at once.
MAX_RUNNING_EXCLUSIVES: constant(uint256) = 16
# @dev Licence ids per packed page (6 x 40 bits).
PAGE_IDS: constant(uint256) = 6
# @dev Licence ids in the first word of a coverage list, beside its count (5 x 40 bits after 40 bits of count).
HEAD_IDS: constant(uint256) = 5
# @dev Most licences of one licensee for one domain that one `is_licensed` call scans, newest first.
MAX_COVERAGE_SCAN: constant(uint256) = 5_000
# @dev Largest page returned by `licences_of`.
MAX_PAGE: constant(uint256) = 100
# @dev Most country codes in a territory.
MAX_COUNTRIES: constant(uint256) = 16
# @dev Most licences one `recount_licensed_until` call scans.
MAX_RECOUNT_STEPS: constant(uint256) = 500

# @dev Licence types.
STANDARD: public(constant(uint8)) = 0
EXTENDED: public(constant(uint8)) = 1
EDITORIAL: public(constant(uint8)) = 2
EXCLUSIVE: public(constant(uint8)) = 3

# @dev Escrow states.
HELD: public(constant(uint8)) = 1
DISPUTED: public(constant(uint8)) = 2
RELEASED: public(constant(uint8)) = 3
REFUNDED: public(constant(uint8)) = 4
# @dev Held for the arbiter after a freeze: like DISPUTED, but the seller cannot refund (and take the licence back).
FROZEN: public(constant(uint8)) = 5

# @dev Bounds of the dispute window and of the platform fee.
MIN_DISPUTE_WINDOW: public(constant(uint256)) = 86_400
MAX_DISPUTE_WINDOW: public(constant(uint256)) = 30 * 86_400
DEFAULT_DISPUTE_WINDOW: public(constant(uint256)) = 7 * 86_400
# @dev Seconds after a dispute (or a freeze) after which anyone may release the escrow to the seller.
ARBITRATION_PERIOD: public(constant(uint256)) = 30 * 86_400
# @dev Seconds after the dispute window in which only the arbiter may act on an undisputed escrow.
RELEASE_GRACE_PERIOD: public(constant(uint256)) = 3 * 86_400
MAX_FEE_BPS: public(constant(uint256)) = 2_000
BPS: constant(uint256) = 10_000
# @dev The largest `s` of a non-malleable ECDSA signature (secp256k1n / 2, as in snekmate's ecdsa).
SECP256K1_HALF_ORDER: constant(uint256) = 57_896_044_618_658_097_711_785_492_504_343_953_926_418_782_139_537_452_191_302_581_570_759_080_747_168

# @dev The role that resolves disputes.
ARBITER_ROLE: public(constant(bytes32)) = keccak256("ARBITER_ROLE")

# @dev EIP-712 type hash of an offer.
OFFER_TYPEHASH: public(constant(bytes32)) = keccak256(
    "Offer(address seller,address buyer,uint256 registration_id,uint8 licence_type,bytes32 territory,uint64 duration,uint16 seats,bytes32[] domains,address currency,uint256 price,uint16 max_fee_bps,uint32 max_sales,uint256 expiry,uint256 counter,uint256 salt)"
)

# @dev Bit masks and bounds of the packed words.
MASK_16: constant(uint256) = 2**16 - 1
MASK_32: constant(uint256) = 2**32 - 1
MASK_36: constant(uint256) = 2**36 - 1
MASK_40: constant(uint256) = 2**40 - 1
MASK_100: constant(uint256) = 2**100 - 1
MASK_160: constant(uint256) = 2**160 - 1
MAX_PRICE: constant(uint256) = 2**96 - 1
# @dev `_offer_state`: sales in the low 32 bits, this bit once cancelled.
CANCELLED_BIT: constant(uint256) = 2**32
# @dev `_holdings`: bit offsets.
STARTS_AT_SHIFT: constant(uint256) = 160
ENDS_AT_SHIFT: constant(uint256) = 196
EPOCH_SHIFT: constant(uint256) = 232
TYPE_SHIFT: constant(uint256) = 248
CPY_BIT: constant(uint256) = 2**250
STATUS_SHIFT: constant(uint256) = 251
REVOKED_BIT: constant(uint256) = 2**254
VOIDED_BIT: constant(uint256) = 2**255
# @dev `_registrations`: bit offsets (count, perpetual count, latest timed end, first three licence ids).
PERPETUAL_SHIFT: constant(uint256) = 40
TIMED_UNTIL_SHIFT: constant(uint256) = 80
FIRST_IDS_SHIFT: constant(uint256) = 120
IDS_IN_STATE: constant(uint256) = 3
EXCLUSIVES_SHIFT: constant(uint256) = 240


# @dev What a seller signs (EIP-712 primary type `Offer`).
struct Offer:
    seller: address
    buyer: address  # empty(address) = anyone
    registration_id: uint256
    licence_type: uint8
    territory: bytes32
    duration: uint64  # seconds; 0 = perpetual
    seats: uint16
    domains: DynArray[bytes32, MAX_DOMAINS]  # keccak256 of domain names; empty = the buyer names them
    currency: address  # empty(address) = ETH, else the CPY token
    price: uint256
    max_fee_bps: uint16  # the highest platform fee the seller accepts
    max_sales: uint32
    expiry: uint256
    counter: uint256
    salt: uint256


# @dev The terms a purchase's escrow pays out on, as its `LicencePurchased` event carries them
#      (the last, `blockhash(block.number - 1)`, is its `previous_block_hash`; on Ethereum the
#      header's `parentHash`, not on every L2); the licence's word keeps their hash (`_terms_hash`).
struct Terms:
    licensee: address
    seller: address
    currency: address  # empty(address) = ETH, else the CPY token
    price: uint256
    block_hash: bytes32  # blockhash(block.number - 1) at the purchase


# @dev What is stored of a licence (the other terms are in its `LicencePurchased` event).
struct Licence:
    licence_type: uint8
    starts_at: uint256
    ends_at: uint256  # 0 = perpetual
    revoked: bool  # refunded or revoked: valid before `revoked_at` unless voided
    revoked_at: uint256
    voided: bool  # revoked for fraud: never valid


# @dev The money of one purchase until release or refund (the price is in its `Terms`).
struct Escrow:
    currency: address
    fee_bps: uint256  # the fee's share of the price, fixed at purchase
    treasury: address  # receives the fee; fixed at purchase
    window_end: uint256  # end of the dispute window (the event's `release_at`)
    releasable_at: uint256  # when anyone may release it: window_end + RELEASE_GRACE_PERIOD if held, the arbitration deadline if disputed or frozen, 0 once paid out
    status: uint8


# @dev The register whose `registration` decides who may sell, and from when.
REGISTER: public(immutable(address))
# @dev The register's claim window (`MAX_COMMITMENT_AGE`), read at deployment.
CLAIM_WINDOW: public(immutable(uint256))
# @dev The CPY token, the only ERC-20 accepted as payment.
CPY: public(immutable(address))

# @dev Licence count (bits 0-39), current epoch (40-55), ETH (56-155) and CPY (156-255) held in escrow: one word a purchase updates once.
_config: uint256
# @dev Epochs of the fee terms: treasury (bits 0-159), fee_bps (160-175), dispute window in seconds (176-207).
_epochs: HashMap[uint256, uint256]

# @dev Per licence id: hash of its `Terms` (bits 0-159), starts_at (160-195), ends_at (196-231), epoch (232-247),
#      licence type (248-249), paid in CPY (250), escrow status (251-253), revoked (254), voided (255).
_holdings: HashMap[uint256, uint256]
# @dev When a refunded or revoked licence stopped being valid.
_revoked_at: HashMap[uint256, uint256]
# @dev End of the arbitration period of a disputed or frozen escrow.
_arbitration_deadline: HashMap[uint256, uint256]
# @dev The registration of a perpetual non-exclusive licence (its revocation lowers the registration's perpetual count).
_perpetual_registration: HashMap[uint256, uint256]
# @dev The territory of an exclusive licence (checked against later purchases while it runs).
_exclusive_territory: HashMap[uint256, bytes32]

# @dev Per registration: licence count (bits 0-39), unrevoked perpetual non-exclusive licences (40-79),
#      latest end of a timed non-exclusive licence (80-119, revoked ones included until recounted), first three licence ids (120-239),
#      length of `_running_exclusives` (240-255, so a purchase reads that list only when it is not empty).
_registrations: HashMap[uint256, uint256]
# @dev Licence ids of a registration after the first three, six per page.
_registration_pages: HashMap[uint256, HashMap[uint256, uint256]]
# @dev Licence ids covering a domain, by keccak256(registration_id, licensee, domain_hash), append-only:
#      word 0 holds the count (bits 0-39) and the first five ids, word p >= 1 the next six ids each.
_coverage: HashMap[bytes32, HashMap[uint256, uint256]]
# @dev Exclusive licences of a registration that may still run (pruned on every purchase).
_running_exclusives: HashMap[uint256, DynArray[uint256, MAX_RUNNING_EXCLUSIVES]]
# @dev A running recount of the latest timed end: the next licence index of the registration to scan.
recount_next: public(HashMap[uint256, uint256])
# @dev A running recount of the latest timed end: the latest end of an unrevoked timed licence found so far.
recount_best: public(HashMap[uint256, uint256])

# @dev A seller's offer counter; bumping it cancels all their earlier offers.
counter: public(HashMap[address, uint256])
# @dev Per offer hash: purchases made (bits 0-31) and CANCELLED_BIT.
_offer_state: HashMap[bytes32, uint256]

# @dev Withdrawable balances: account => asset (empty(address) = ETH) => amount.
credit: public(HashMap[address, HashMap[address, uint256]])


# @dev Emitted when a licence is bought; carries every term of the certificate.
event LicencePurchased:
    licence_id: indexed(uint256)
    registration_id: indexed(uint256)
    licensee: indexed(address)
    seller: address
    offer_hash: bytes32
    licence_type: uint8
    territory: bytes32
    seats: uint16
    starts_at: uint256
    ends_at: uint256
    domains: DynArray[bytes32, MAX_DOMAINS]
    currency: address
    price: uint256
    fee: uint256
    release_at: uint256
    previous_block_hash: bytes32  # blockhash(block.number - 1): the last of the escrow's `Terms`

# @dev Emitted when a seller cancels one offer.
event OfferCancelled:
    offer_hash: indexed(bytes32)
    seller: indexed(address)

# @dev Emitted when a seller cancels all their offers signed so far.
event CounterIncremented:
    seller: indexed(address)
    counter: uint256

# @dev Emitted when the buyer disputes a purchase.
event Disputed:
    licence_id: indexed(uint256)
    buyer: indexed(address)
    reason: String[200]
    arbitration_deadline: uint256

# @dev Emitted when the arbiter freezes an undisputed escrow before it can be released (it then waits as if disputed).
event Frozen:
    licence_id: indexed(uint256)
    arbiter: indexed(address)
    reason: String[200]
    arbitration_deadline: uint256

# @dev Emitted when a purchase is refunded in full (by the arbiter or the seller); the licence is revoked.
event Refunded:
    licence_id: indexed(uint256)
    buyer: indexed(address)
    amount: uint256
    refunded_by: address

# @dev Emitted when the arbiter revokes a licence for fraud (`refunded` is 0 when the escrow was already released).
event LicenceRevoked:
    licence_id: indexed(uint256)
    licensee: indexed(address)
    refunded: uint256
    reason: String[200]
    arbiter: address

# @dev Emitted when escrow is released to the seller and the treasury.
event Released:
    licence_id: indexed(uint256)
    seller: indexed(address)
    seller_amount: uint256
    fee: uint256
    released_by: address

# @dev Emitted when a recount of the latest end of the timed licences of a registration finished.
event LicensedUntilRecounted:
    registration_id: indexed(uint256)
    previous_timed_until: uint256
    timed_until: uint256

# @dev Emitted when an account withdraws its credit.
event Withdrawn:
    account: indexed(address)
    asset: indexed(address)
    amount: uint256

# @dev Emitted when the admin changes the treasury.
event TreasuryChanged:
    previous_treasury: address
    new_treasury: address

# @dev Emitted when the admin changes the platform fee.
event FeeChanged:
    previous_fee_bps: uint256
    new_fee_bps: uint256

# @dev Emitted when the admin changes the dispute window.
event DisputeWindowChanged:
    previous_window: uint256
    new_window: uint256


@deploy
def __init__(register: address, cpy_token: address, treasury: address, fee_bps: uint256):
    """
    @dev The deployer holds DEFAULT_ADMIN_ROLE and ARBITER_ROLE.
    @param register The copyright register (`registration`, `MAX_COMMITMENT_AGE`).
    @param cpy_token The CPY token accepted besides ETH.
    @param treasury The account credited with platform fees.
    @param fee_bps The platform fee in basis points (at most MAX_FEE_BPS).
    """
    assert register != empty(address), "market: register is the zero address"
    assert cpy_token != empty(address), "market: CPY token is the zero address"
    assert treasury != empty(address), "market: treasury is the zero address"
    assert fee_bps <= MAX_FEE_BPS, "market: fee above MAX_FEE_BPS"
    access_control.__init__()
    eip712_domain_separator.__init__("Copytrack Licence Market", "1")
    access_control._grant_role(ARBITER_ROLE, msg.sender)
    REGISTER = register
    CLAIM_WINDOW = staticcall Register(register).MAX_COMMITMENT_AGE()
    CPY = cpy_token
    # Epochs start at 1 so the config word is never zero: a purchase then pays for a change, not a new slot.
    self._set_epoch_terms(treasury, fee_bps, DEFAULT_DISPUTE_WINDOW)


@external
@view
def offer_hash(offer: Offer) -> bytes32:
    """
    @dev The EIP-712 digest a seller signs for `offer`.
    @param offer The offer.
    @return bytes32 The typed-data digest (domain separator included).
    """
    return self._offer_digest(offer)


@external
@payable
@nonreentrant
def buy(offer: Offer, signature: Bytes[65], domains: DynArray[bytes32, MAX_DOMAINS]) -> uint256:
    """
    @dev Buys a licence from a signed offer; the caller is the licensee.
         Pays `offer.price` into escrow (ETH as msg.value, or CPY via an
         allowance) and records the licence at once.
    @param offer The offer the seller signed.
    @param signature The seller's signature: 65 bytes, or 64 (EIP-2098);
           ERC-1271 for a contract seller. A seller with code (a
           contract wallet, or an EIP-7702 delegated account) is accepted
           on a raw ECDSA signature of its own key whatever its ERC-1271
           would answer: the key is the account.
    @param domains The domains (keccak256 hashes) to cover when the offer
           leaves them open; must be empty when the offer names them.
    @return uint256 The new licence id.
    """
    config: uint256 = self._config
    epoch: uint256 = (config >> 40) & MASK_16
    terms: uint256 = self._epochs[epoch]
    fee_bps: uint256 = (terms >> 160) & MASK_16
    digest: bytes32 = empty(bytes32)
    offer_state: uint256 = 0
    digest, offer_state = self._check_offer(offer, signature, fee_bps)
    assert offer.price <= MAX_PRICE, "market: price above 2**96 - 1"
    covered: DynArray[bytes32, MAX_DOMAINS] = self._covered_domains(offer, domains)
    self._check_territory(offer.territory)
    registration: uint256 = self._check_exclusivity(
        offer.registration_id, self._registrations[offer.registration_id], offer.licence_type, offer.territory
    )
    if offer.currency == empty(address):
        assert msg.value == offer.price, "market: sent ETH differs from the price"
    else:
        assert msg.value == 0, "market: ETH sent for a CPY offer"

    self._offer_state[digest] = offer_state + 1
    licence_id: uint256 = (config & MASK_40) + 1
    assert licence_id <= MASK_40, "market: licence ids exhausted"
    # Checked for perpetual licences too: their start is packed into 36 bits as well.
    ends_at: uint256 = block.timestamp + convert(offer.duration, uint256)
    assert ends_at <= MASK_36, "market: licence past 2**36 s (year 4147)"
    if offer.duration == 0:
        ends_at = 0
    fee: uint256 = offer.price * fee_bps // BPS
    release_at: uint256 = block.timestamp + ((terms >> 176) & MASK_32)
    self._config = self._with_escrowed(config + 1, offer.currency, offer.price, True)

    previous_block: bytes32 = blockhash(block.number - 1)
    holding: uint256 = self._terms_hash(Terms(
        licensee=msg.sender, seller=offer.seller, currency=offer.currency, price=offer.price,
        block_hash=previous_block,
    ))
    holding |= (block.timestamp << STARTS_AT_SHIFT) | (ends_at << ENDS_AT_SHIFT)
    holding |= (epoch << EPOCH_SHIFT) | (convert(offer.licence_type, uint256) << TYPE_SHIFT) | (convert(HELD, uint256) << STATUS_SHIFT)
    if offer.currency != empty(address):
        holding |= CPY_BIT
    self._holdings[licence_id] = holding
    self._index_licence(licence_id, offer.registration_id, registration, offer.licence_type, offer.territory, ends_at)
    for d: bytes32 in covered:
        self._add_coverage(keccak256(abi_encode(offer.registration_id, msg.sender, d)), licence_id)
    log LicencePurchased(
        licence_id=licence_id,
        registration_id=offer.registration_id,
        licensee=msg.sender,
        seller=offer.seller,
        offer_hash=digest,
        licence_type=offer.licence_type,
        territory=offer.territory,
        seats=offer.seats,
        starts_at=block.timestamp,
        ends_at=ends_at,
        domains=covered,
        currency=offer.currency,
        price=offer.price,
        fee=fee,
        release_at=release_at,
        previous_block_hash=previous_block,
    )

    if offer.currency != empty(address) and offer.price != 0:
        self._pull_token(msg.sender, offer.price)
    return licence_id


@external
def cancel_offer(offer: Offer):
    """
    @dev Cancels one offer; only its seller may.
    @param offer The offer to cancel.
    """
    assert msg.sender == offer.seller, "market: only the seller can cancel an offer"
    digest: bytes32 = self._offer_digest(offer)
    self._offer_state[digest] |= CANCELLED_BIT
    log OfferCancelled(offer_hash=digest, seller=msg.sender)


@external
def increment_counter() -> uint256:
    """
    @dev Cancels every offer the caller signed so far (offers carry the counter).
    @return uint256 The new counter to put into new offers.
    """
    new_counter: uint256 = self.counter[msg.sender] + 1
    self.counter[msg.sender] = new_counter
    log CounterIncremented(seller=msg.sender, counter=new_counter)
    return new_counter


@external
def dispute(licence_id: uint256, terms: Terms, reason: String[200]):
    """
    @dev The buyer disputes a purchase within the dispute window; the
         escrow then waits for the arbiter, at most ARBITRATION_PERIOD
         (after that anyone may release it to the seller).
    @param licence_id The licence bought.
    @param terms The purchase's terms, as its `LicencePurchased` event says (with its `previous_block_hash`).
    @param reason Why, for the arbiter (for example: the seller is not the author).
    """
    holding: uint256 = self._holding_of(licence_id, terms)
    assert terms.licensee == msg.sender, "market: only the buyer can dispute"
    assert self._status(holding) == HELD, "market: escrow is not held"
    assert block.timestamp < self._window_end(holding), "market: dispute window has closed"
    deadline: uint256 = self._hold_for_arbiter(licence_id, holding, DISPUTED)
    log Disputed(licence_id=licence_id, buyer=msg.sender, reason=reason, arbitration_deadline=deadline)


@external
def freeze(licence_id: uint256, reason: String[200]):
    """
    @dev The arbiter stops an undisputed escrow from being released, until
         the dispute window plus RELEASE_GRACE_PERIOD has passed; it then
         waits as if disputed (`resolve`, or anyone may release it after
         ARBITRATION_PERIOD), except that the seller can no longer refund
         it, which would take the licence back after the window. The grace period is what makes this safe
         against a seller racing the arbiter to `release`.
    @param licence_id The licence whose escrow to freeze.
    @param reason Why, for the record.
    """
    access_control._check_role(ARBITER_ROLE, msg.sender)
    holding: uint256 = self._existing(licence_id)
    assert self._status(holding) == HELD, "market: escrow is not held"
    assert block.timestamp < self._window_end(holding) + RELEASE_GRACE_PERIOD, "market: grace period over, escrow may be released"
    deadline: uint256 = self._hold_for_arbiter(licence_id, holding, FROZEN)
    log Frozen(licence_id=licence_id, arbiter=msg.sender, reason=reason, arbitration_deadline=deadline)


@external
def resolve(licence_id: uint256, terms: Terms, refund: bool):
    """
    @dev The arbiter resolves a dispute or freeze: refund the buyer in full
         (the licence is revoked from now on) or release the escrow to
         seller and treasury.
    @param licence_id The disputed licence.
    @param terms The purchase's terms, as its `LicencePurchased` event says (with its `previous_block_hash`).
    @param refund True to refund, False to release.
    """
    access_control._check_role(ARBITER_ROLE, msg.sender)
    holding: uint256 = self._holding_of(licence_id, terms)
    status: uint8 = self._status(holding)
    assert status == DISPUTED or status == FROZEN, "market: licence is not disputed"
    if refund:
        self._refund(licence_id, self._revoke(licence_id, holding, False), terms)
    else:
        self._release(licence_id, holding, terms)


@external
def seller_refund(licence_id: uint256, terms: Terms):
    """
    @dev The seller refunds the buyer in full of their own accord, within
         the dispute window or while the buyer's dispute runs (not once the
         arbiter froze the escrow: a licence is final for the seller after
         the window); the licence is revoked from now on (it stays valid
         for the time before).
    @param licence_id The licence to take back.
    @param terms The purchase's terms, as its `LicencePurchased` event says (with its `previous_block_hash`).
    """
    holding: uint256 = self._holding_of(licence_id, terms)
    assert terms.seller == msg.sender, "market: only the seller can refund"
    status: uint8 = self._status(holding)
    assert status == HELD or status == DISPUTED, "market: escrow paid out or frozen by the arbiter"
    if status == HELD:
        assert block.timestamp < self._window_end(holding), "market: dispute window has closed, the licence is final"
    self._refund(licence_id, self._revoke(licence_id, holding, False), terms)


@external
def revoke(licence_id: uint256, terms: Terms, reason: String[200]):
    """
    @dev The arbiter revokes a licence sold by fraud (for example by a
         copier who registered the image first), with or without a
         dispute; the licence is void from the start. The buyer is refunded
         in full when the money is still held, disputed or frozen; after
         release it is gone and `refunded` is 0. A licence the seller or
         the arbiter already refunded (revoked from then on) is voided too,
         without a second refund, so a seller's refund cannot save a
         fraudulent licence's past.
    @param licence_id The licence to revoke.
    @param terms The purchase's terms, as its `LicencePurchased` event says (with its `previous_block_hash`).
    @param reason Why, for the record.
    """
    access_control._check_role(ARBITER_ROLE, msg.sender)
    holding: uint256 = self._holding_of(licence_id, terms)
    assert holding & VOIDED_BIT == 0, "market: licence already voided"
    refunded: uint256 = 0
    if holding & REVOKED_BIT != 0:
        # Refunded before (its status is REFUNDED): only the voiding is missing.
        holding |= VOIDED_BIT
        self._holdings[licence_id] = holding
    else:
        holding = self._revoke(licence_id, holding, True)
        # Not revoked before, so not refunded: the money is held unless released.
        if self._status(holding) != RELEASED:
            refunded = terms.price
            self._refund(licence_id, holding, terms)
    log LicenceRevoked(licence_id=licence_id, licensee=terms.licensee, refunded=refunded, reason=reason, arbiter=msg.sender)


@external
def release(licence_id: uint256, terms: Terms):
    """
    @dev Releases an escrow to seller and treasury; anyone may call it.
         An undisputed escrow once the dispute window and
         RELEASE_GRACE_PERIOD have passed; a disputed or frozen one once
         ARBITRATION_PERIOD has passed since without a decision of the
         arbiter.
    @param licence_id The licence whose escrow to release.
    @param terms The purchase's terms, as its `LicencePurchased` event says (with its `previous_block_hash`).
    """
    holding: uint256 = self._holding_of(licence_id, terms)
    status: uint8 = self._status(holding)
    assert status == HELD or status == DISPUTED or status == FROZEN, "market: escrow already paid out"
    if status == HELD:
        window_end: uint256 = self._window_end(holding)
        assert block.timestamp >= window_end, "market: dispute window still open"
        assert block.timestamp >= window_end + RELEASE_GRACE_PERIOD, "market: grace period for the arbiter still running"
    else:
        assert block.timestamp >= self._arbitration_deadline[licence_id], "market: arbitration period still running"
    self._release(licence_id, holding, terms)


@external
def recount_licensed_until(registration_id: uint256, max_steps: uint256) -> bool:
    """
    @dev Recounts the latest end of the unrevoked timed non-exclusive
         licences of a registration, so that revoked ones stop blocking
         exclusive licences. Scans the registration's licences in order,
         at most `max_steps` per call (anyone may call, repeatedly, until
         it returns True). Licences bought meanwhile are scanned too;
         a licence revoked meanwhile may still count (the result can only
         be too late, never too early).
    @param registration_id The registration.
    @param max_steps Licences to scan in this call (1..500).
    @return bool True when the recount finished and `licensed_until` was updated.
    """
    assert max_steps != 0 and max_steps <= MAX_RECOUNT_STEPS, "market: max_steps must be 1..500"
    index: uint256 = self.recount_next[registration_id]
    best: uint256 = self.recount_best[registration_id]
    registration: uint256 = self._registrations[registration_id]
    total: uint256 = registration & MASK_40
    for _: uint256 in range(max_steps, bound=MAX_RECOUNT_STEPS):
        if index >= total:
            break
        holding: uint256 = self._holdings[self._registration_licence(registration_id, registration, index)]
        ends_at: uint256 = (holding >> ENDS_AT_SHIFT) & MASK_36
        if ends_at > best and self._licence_type(holding) != EXCLUSIVE and holding & REVOKED_BIT == 0:
            best = ends_at
        index += 1
    if index < total:
        self.recount_next[registration_id] = index
        self.recount_best[registration_id] = best
        return False
    previous: uint256 = (registration >> TIMED_UNTIL_SHIFT) & MASK_40
    self._registrations[registration_id] = (registration & ~(MASK_40 << TIMED_UNTIL_SHIFT)) | (best << TIMED_UNTIL_SHIFT)
    self.recount_next[registration_id] = 0
    self.recount_best[registration_id] = 0
    log LicensedUntilRecounted(registration_id=registration_id, previous_timed_until=previous, timed_until=best)
    return True


@external
@nonreentrant
def withdraw(asset: address):
    """
    @dev Sends the caller everything credited to them in `asset`.
    @param asset empty(address) for ETH, else the CPY token.
    """
    assert asset == empty(address) or asset == CPY, "market: unsupported asset"
    amount: uint256 = self.credit[msg.sender][asset]
    assert amount != 0, "market: nothing to withdraw"
    self.credit[msg.sender][asset] = 0
    log Withdrawn(account=msg.sender, asset=asset, amount=amount)
    if asset == empty(address):
        ok: bool = raw_call(msg.sender, b"", value=amount, revert_on_failure=False)
        assert ok, "market: ETH transfer failed"
    else:
        assert extcall IERC20(asset).transfer(msg.sender, amount, default_return_value=True), "market: token transfer failed"


@external
def set_treasury(new_treasury: address):
    """
    @dev Changes the account credited with the fees of future purchases
         (admin only); escrows already held keep the treasury of their purchase.
    @param new_treasury The new treasury.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert new_treasury != empty(address), "market: treasury is the zero address"
    terms: uint256 = self._current_terms()
    previous: address = self._terms_treasury(terms)
    self._set_epoch_terms(new_treasury, (terms >> 160) & MASK_16, (terms >> 176) & MASK_32)
    log TreasuryChanged(previous_treasury=previous, new_treasury=new_treasury)


@external
def set_fee_bps(new_fee_bps: uint256):
    """
    @dev Changes the platform fee for future purchases (admin only).
    @param new_fee_bps The fee in basis points, at most MAX_FEE_BPS.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert new_fee_bps <= MAX_FEE_BPS, "market: fee above MAX_FEE_BPS"
    terms: uint256 = self._current_terms()
    self._set_epoch_terms(self._terms_treasury(terms), new_fee_bps, (terms >> 176) & MASK_32)
    log FeeChanged(previous_fee_bps=(terms >> 160) & MASK_16, new_fee_bps=new_fee_bps)


@external
def set_dispute_window(new_window: uint256):
    """
    @dev Changes the dispute window for future purchases (admin only).
    @param new_window Seconds, between MIN_DISPUTE_WINDOW and MAX_DISPUTE_WINDOW.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert new_window >= MIN_DISPUTE_WINDOW, "market: dispute window below MIN_DISPUTE_WINDOW"
    assert new_window <= MAX_DISPUTE_WINDOW, "market: dispute window above MAX_DISPUTE_WINDOW"
    terms: uint256 = self._current_terms()
    self._set_epoch_terms(self._terms_treasury(terms), (terms >> 160) & MASK_16, new_window)
    log DisputeWindowChanged(previous_window=(terms >> 176) & MASK_32, new_window=new_window)


@external
@view
def treasury() -> address:
    """
    @dev The account credited with the fees of new purchases.
    @return address The treasury.
    """
    return self._terms_treasury(self._current_terms())


@external
@view
def fee_bps() -> uint256:
    """
    @dev The platform fee of new purchases.
    @return uint256 Basis points.
    """
    return (self._current_terms() >> 160) & MASK_16


@external
@view
def dispute_window() -> uint256:
    """
    @dev Seconds after a new purchase during which the buyer may dispute.
    @return uint256 Seconds.
    """
    return (self._current_terms() >> 176) & MASK_32


@external
@view
def licence_count() -> uint256:
    """
    @dev Number of licences sold; licence ids run from 1.
    @return uint256 The count.
    """
    return self._config & MASK_40


@external
@view
def escrowed(asset: address) -> uint256:
    """
    @dev Total still held in escrow in `asset`.
    @param asset empty(address) for ETH, else the CPY token.
    @return uint256 The amount.
    """
    if asset == empty(address):
        return (self._config >> 56) & MASK_100
    if asset == CPY:
        return self._config >> 156
    return 0


@external
@view
def sales_of(offer_hash: bytes32) -> uint32:
    """
    @dev Purchases made from an offer.
    @param offer_hash The offer's digest.
    @return uint32 The number of purchases.
    """
    return convert(self._offer_state[offer_hash] & MASK_32, uint32)


@external
@view
def cancelled(offer_hash: bytes32) -> bool:
    """
    @dev Whether the seller cancelled the offer one by one.
    @param offer_hash The offer's digest.
    @return bool True when cancelled.
    """
    return self._offer_state[offer_hash] & CANCELLED_BIT != 0


@external
@view
def licence(licence_id: uint256) -> Licence:
    """
    @dev What is stored of a licence; the other terms are in its
         `LicencePurchased` event (the bindings join both).
    @param licence_id The licence id.
    @return Licence The licence (starts_at 0 when unknown).
    """
    holding: uint256 = self._holdings[licence_id]
    if holding == 0:
        return empty(Licence)
    return Licence(
        licence_type=self._licence_type(holding),
        starts_at=(holding >> STARTS_AT_SHIFT) & MASK_36,
        ends_at=(holding >> ENDS_AT_SHIFT) & MASK_36,
        revoked=holding & REVOKED_BIT != 0,
        revoked_at=self._revoked_at[licence_id],
        voided=holding & VOIDED_BIT != 0,
    )


@external
@view
def escrow(licence_id: uint256) -> Escrow:
    """
    @dev The escrow of a purchase.
    @param licence_id The licence id.
    @return Escrow The escrow (status 0 when unknown).
    """
    holding: uint256 = self._holdings[licence_id]
    if holding == 0:
        return empty(Escrow)
    terms: uint256 = self._epochs[(holding >> EPOCH_SHIFT) & MASK_16]
    status: uint8 = self._status(holding)
    window_end: uint256 = self._window_end(holding)
    releasable_at: uint256 = 0
    if status == HELD:
        releasable_at = window_end + RELEASE_GRACE_PERIOD
    elif status != RELEASED and status != REFUNDED:
        releasable_at = self._arbitration_deadline[licence_id]
    return Escrow(
        currency=self._currency(holding),
        fee_bps=(terms >> 160) & MASK_16,
        treasury=self._terms_treasury(terms),
        window_end=window_end,
        releasable_at=releasable_at,
        status=status,
    )


@external
@view
def licence_count_of(registration_id: uint256) -> uint256:
    """
    @dev Number of licences sold for a registration.
    @param registration_id The registration.
    @return uint256 The count.
    """
    return self._registrations[registration_id] & MASK_40


@external
@view
def perpetual_licence_count(registration_id: uint256) -> uint256:
    """
    @dev Unrevoked perpetual non-exclusive licences of a registration.
    @param registration_id The registration.
    @return uint256 The count.
    """
    return (self._registrations[registration_id] >> PERPETUAL_SHIFT) & MASK_40


@external
@view
def licences_of(registration_id: uint256, offset: uint256, limit: uint256) -> DynArray[uint256, MAX_PAGE]:
    """
    @dev A page of the licence ids of a registration, oldest first.
    @param registration_id The registration.
    @param offset Index of the first licence to return.
    @param limit Most ids to return (at most 100).
    @return DynArray The licence ids.
    """
    assert limit <= MAX_PAGE, "market: page limit above 100"
    ids: DynArray[uint256, MAX_PAGE] = []
    registration: uint256 = self._registrations[registration_id]
    total: uint256 = registration & MASK_40
    for i: uint256 in range(MAX_PAGE):
        if i >= limit or offset + i >= total:
            break
        ids.append(self._registration_licence(registration_id, registration, offset + i))
    return ids


@external
@view
def is_licensed(registration_id: uint256, licensee: address, domain_hash: bytes32, timestamp: uint256) -> bool:
    """
    @dev Whether `licensee` held a licence for `registration_id` covering
         `domain_hash` at `timestamp`. A refunded or revoked licence counts
         for the time before its revocation, a licence revoked for fraud
         never.
    @param registration_id The registration.
    @param licensee The account that bought the licence.
    @param domain_hash keccak256 of the host name: lower case, punycode, no scheme, port or trailing dot (`normalise_domain` in the bindings).
    @param timestamp The moment to check (a crawl time, say).
    @return bool True when licensed. Scans the licensee's licences for the
            domain newest first, at most MAX_COVERAGE_SCAN (5,000) of them
            (a view for off-chain callers: about 3,300 gas a licence, 16.5M for 5,000).
    """
    return self._is_licensed(keccak256(abi_encode(registration_id, licensee, domain_hash)), timestamp)


@external
@view
def licensed_until(registration_id: uint256) -> uint256:
    """
    @dev Until when non-exclusive licences of a registration may run, which
         is when an exclusive licence becomes possible: max_value(uint256)
         while an unrevoked perpetual licence exists, else the latest end of
         any timed licence sold (revoked ones included until
         `recount_licensed_until` has run).
    @param registration_id The registration.
    @return uint256 A timestamp (max_value = never).
    """
    return self._licensed_until(self._registrations[registration_id])


@internal
def _set_epoch_terms(treasury: address, fee_bps: uint256, window: uint256):
    config: uint256 = self._config
    epoch: uint256 = ((config >> 40) & MASK_16) + 1
    assert epoch <= MASK_16, "market: no more changes of fee, treasury or window possible"
    self._epochs[epoch] = convert(treasury, uint256) | (fee_bps << 160) | (window << 176)
    self._config = (config & ~(MASK_16 << 40)) | (epoch << 40)


@internal
@view
def _current_terms() -> uint256:
    return self._epochs[(self._config >> 40) & MASK_16]


@internal
@pure
def _terms_treasury(terms: uint256) -> address:
    return convert(convert(terms & MASK_160, uint160), address)


@internal
@pure
def _with_escrowed(config: uint256, currency: address, amount: uint256, add: bool) -> uint256:
    offset: uint256 = 56
    if currency != empty(address):
        offset = 156
    held: uint256 = (config >> offset) & MASK_100
    if add:
        held += amount
        assert held <= MASK_100, "market: escrow total above 2**100 - 1"
    else:
        held -= amount
    return (config & ~(MASK_100 << offset)) | (held << offset)


@internal
@view
def _check_offer(offer: Offer, signature: Bytes[65], fee_bps: uint256) -> (bytes32, uint256):
    assert offer.expiry > block.timestamp, "market: offer expired"
    assert offer.counter == self.counter[offer.seller], "market: offer cancelled"
    digest: bytes32 = self._offer_digest(offer)
    offer_state: uint256 = self._offer_state[digest]
    assert offer_state & CANCELLED_BIT == 0, "market: offer cancelled"
    assert offer_state < convert(offer.max_sales, uint256), "market: offer sold out"
    assert offer.licence_type <= EXCLUSIVE, "market: unknown licence type"
    assert offer.seats != 0, "market: offer has no seats"
    assert offer.currency == empty(address) or offer.currency == CPY, "market: unsupported currency"
    assert offer.seller != empty(address), "market: offer has no seller"
    assert offer.buyer == empty(address) or offer.buyer == msg.sender, "market: offer reserved for another buyer"
    assert fee_bps <= convert(offer.max_fee_bps, uint256), "market: platform fee above the offer's max_fee_bps"
    owner: address = empty(address)
    registered_at: uint256 = 0
    owner, registered_at = staticcall Register(REGISTER).ownership(offer.registration_id)
    assert owner == offer.seller, "market: seller does not own the registration"
    assert block.timestamp >= registered_at + CLAIM_WINDOW, "market: registration still in its claim window"
    assert self._signed_by(offer.seller, digest, signature), "market: invalid offer signature"
    return digest, offer_state


@internal
@view
def _signed_by(signer: address, digest: bytes32, signature: Bytes[65]) -> bool:
    # A signature (65 bytes, or 64 in EIP-2098's compact form) that recovers to the signer is valid
    # without reading the signer's code (OpenZeppelin's SignatureChecker order: saves a cold
    # EXTCODESIZE per purchase); otherwise a contract signer is asked by ERC-1271. Compact
    # signatures are accepted on purpose (OpenZeppelin v5's ECDSA no longer does): some wallets
    # produce them, and the high-s check below still makes every signature non-malleable.
    # ecrecover answers the empty address for a signature it cannot recover: never a signer.
    if signer == empty(address):
        return False
    if len(signature) >= 64:
        v: uint256 = 0
        s: uint256 = convert(slice(signature, 32, 32), uint256)
        if len(signature) == 65:
            v = convert(slice(signature, 64, 1), uint256)
        else:
            v = (s >> 255) + 27
            s &= max_value(uint256) >> 1
        if s <= SECP256K1_HALF_ORDER and ecrecover(digest, v, convert(slice(signature, 0, 32), uint256), s) == signer:
            return True
    return signer.is_contract and signature_checker._is_valid_ERC1271_signature_now(signer, digest, signature)


@internal
@view
def _existing(licence_id: uint256) -> uint256:
    holding: uint256 = self._holdings[licence_id]
    assert holding != 0, "market: unknown licence"
    return holding


@internal
@view
def _holding_of(licence_id: uint256, terms: Terms) -> uint256:
    # The licence's word, once `terms` are shown to be the ones it was bought on.
    holding: uint256 = self._existing(licence_id)
    assert holding & MASK_160 == self._terms_hash(terms), "market: terms differ from the licence's purchase"
    return holding


@internal
@pure
def _terms_hash(terms: Terms) -> uint256:
    # 160 bits of keccak256. Whoever buys can also be the seller, so someone could look for two sets
    # of terms with the same hash, one cheap to buy and one paying out more (a collision: about
    # 2**80 hashes, not 2**160). The previous block's hash is known only a block before the
    # purchase: the cheap terms cannot be prepared in advance, and matching them within a block is
    # a second preimage again (about 2**160 hashes).
    return convert(keccak256(abi_encode(terms.licensee, terms.seller, terms.currency, terms.price, terms.block_hash)), uint256) >> 96


@internal
@pure
def _status(holding: uint256) -> uint8:
    return convert((holding >> STATUS_SHIFT) & 7, uint8)


@internal
@pure
def _with_status(holding: uint256, status: uint8) -> uint256:
    return (holding & ~(7 << STATUS_SHIFT)) | (convert(status, uint256) << STATUS_SHIFT)


@internal
@pure
def _licence_type(holding: uint256) -> uint8:
    return convert((holding >> TYPE_SHIFT) & 3, uint8)


@internal
@view
def _currency(holding: uint256) -> address:
    if holding & CPY_BIT != 0:
        return CPY
    return empty(address)


@internal
@view
def _window_end(holding: uint256) -> uint256:
    terms: uint256 = self._epochs[(holding >> EPOCH_SHIFT) & MASK_16]
    return ((holding >> STARTS_AT_SHIFT) & MASK_36) + ((terms >> 176) & MASK_32)


@internal
def _hold_for_arbiter(licence_id: uint256, holding: uint256, status: uint8) -> uint256:
    deadline: uint256 = block.timestamp + ARBITRATION_PERIOD
    self._holdings[licence_id] = self._with_status(holding, status)
    self._arbitration_deadline[licence_id] = deadline
    return deadline


@internal
def _revoke(licence_id: uint256, holding: uint256, voided: bool) -> uint256:
    revoked: uint256 = holding | REVOKED_BIT
    if voided:
        revoked |= VOIDED_BIT
    self._holdings[licence_id] = revoked
    self._revoked_at[licence_id] = block.timestamp
    if self._licence_type(holding) != EXCLUSIVE and (holding >> ENDS_AT_SHIFT) & MASK_36 == 0:
        registration_id: uint256 = self._perpetual_registration[licence_id]
        self._registrations[registration_id] -= 1 << PERPETUAL_SHIFT
    return revoked


@internal
def _refund(licence_id: uint256, holding: uint256, terms: Terms):
    buyer: address = terms.licensee
    currency: address = terms.currency
    price: uint256 = terms.price
    self._holdings[licence_id] = self._with_status(holding, REFUNDED)
    self._config = self._with_escrowed(self._config, currency, price, False)
    self.credit[buyer][currency] += price
    log Refunded(licence_id=licence_id, buyer=buyer, amount=price, refunded_by=msg.sender)


@internal
def _release(licence_id: uint256, holding: uint256, terms: Terms):
    seller: address = terms.seller
    price: uint256 = terms.price
    epoch_terms: uint256 = self._epochs[(holding >> EPOCH_SHIFT) & MASK_16]
    fee: uint256 = price * ((epoch_terms >> 160) & MASK_16) // BPS
    currency: address = terms.currency
    self._holdings[licence_id] = self._with_status(holding, RELEASED)
    self._config = self._with_escrowed(self._config, currency, price, False)
    self.credit[seller][currency] += price - fee
    self.credit[self._terms_treasury(epoch_terms)][currency] += fee
    log Released(licence_id=licence_id, seller=seller, seller_amount=price - fee, fee=fee, released_by=msg.sender)


@internal
@view
def _valid_at(licence_id: uint256, timestamp: uint256) -> bool:
    holding: uint256 = self._holdings[licence_id]
    if holding & VOIDED_BIT != 0 or timestamp < (holding >> STARTS_AT_SHIFT) & MASK_36:
        return False
    ends_at: uint256 = (holding >> ENDS_AT_SHIFT) & MASK_36
    if ends_at != 0 and timestamp >= ends_at:
        return False
    return holding & REVOKED_BIT == 0 or timestamp < self._revoked_at[licence_id]


@internal
@pure
def _licensed_until(registration: uint256) -> uint256:
    if (registration >> PERPETUAL_SHIFT) & MASK_40 != 0:
        return max_value(uint256)
    return (registration >> TIMED_UNTIL_SHIFT) & MASK_40


@internal
def _check_exclusivity(registration_id: uint256, registration: uint256, licence_type: uint8, territory: bytes32) -> uint256:
    running_count: uint256 = registration >> EXCLUSIVES_SHIFT
    if running_count != 0:
        running: DynArray[uint256, MAX_RUNNING_EXCLUSIVES] = []
        for licence_id: uint256 in self._running_exclusives[registration_id]:
            holding: uint256 = self._holdings[licence_id]
            ends_at: uint256 = (holding >> ENDS_AT_SHIFT) & MASK_36
            if holding & REVOKED_BIT == 0 and (ends_at == 0 or ends_at > block.timestamp):
                running.append(licence_id)
                assert not self._territories_overlap(self._exclusive_territory[licence_id], territory), "market: an exclusive licence runs in this territory"
        if len(running) != running_count:
            self._running_exclusives[registration_id] = running
            running_count = len(running)
    if licence_type == EXCLUSIVE:
        assert self._licensed_until(registration) <= block.timestamp, "market: other licences still run, no exclusive licence possible"
        assert running_count < MAX_RUNNING_EXCLUSIVES, "market: too many exclusive licences running"
    return (registration & ~(MASK_16 << EXCLUSIVES_SHIFT)) | (running_count << EXCLUSIVES_SHIFT)


@internal
def _index_licence(licence_id: uint256, registration_id: uint256, registration: uint256, licence_type: uint8, territory: bytes32, ends_at: uint256):
    index: uint256 = registration & MASK_40
    updated: uint256 = registration + 1
    if index < IDS_IN_STATE:
        updated |= licence_id << (FIRST_IDS_SHIFT + 40 * index)
    else:
        page: uint256 = (index - IDS_IN_STATE) // PAGE_IDS
        slot: uint256 = (index - IDS_IN_STATE) % PAGE_IDS
        self._registration_pages[registration_id][page] |= licence_id << (40 * slot)
    if licence_type == EXCLUSIVE:
        self._running_exclusives[registration_id].append(licence_id)
        self._exclusive_territory[licence_id] = territory
        updated += 1 << EXCLUSIVES_SHIFT
    elif ends_at == 0:
        updated += 1 << PERPETUAL_SHIFT
        self._perpetual_registration[licence_id] = registration_id
    elif ends_at > (registration >> TIMED_UNTIL_SHIFT) & MASK_40:
        updated = (updated & ~(MASK_40 << TIMED_UNTIL_SHIFT)) | (ends_at << TIMED_UNTIL_SHIFT)
    self._registrations[registration_id] = updated


@internal
@view
def _registration_licence(registration_id: uint256, registration: uint256, index: uint256) -> uint256:
    if index < IDS_IN_STATE:
        return (registration >> (FIRST_IDS_SHIFT + 40 * index)) & MASK_40
    rest: uint256 = index - IDS_IN_STATE
    return (self._registration_pages[registration_id][rest // PAGE_IDS] >> (40 * (rest % PAGE_IDS))) & MASK_40


@internal
def _add_coverage(key: bytes32, licence_id: uint256):
    head: uint256 = self._coverage[key][0]
    count: uint256 = head & MASK_40
    # A domain named twice in one purchase finds this licence already at the end of its list.
    assert count == 0 or self._coverage_id(key, head, count - 1) != licence_id, "market: duplicate domain hash"
    if count < HEAD_IDS:
        # The common case, a licensee's first licences for the domain: one word written.
        self._coverage[key][0] = (head + 1) | (licence_id << (40 + 40 * count))
        return
    self._coverage[key][0] = head + 1
    rest: uint256 = count - HEAD_IDS
    self._coverage[key][1 + rest // PAGE_IDS] |= licence_id << (40 * (rest % PAGE_IDS))


@internal
@view
def _is_licensed(key: bytes32, timestamp: uint256) -> bool:
    head: uint256 = self._coverage[key][0]
    index: uint256 = head & MASK_40
    for _: uint256 in range(MAX_COVERAGE_SCAN):
        if index == 0:
            break
        index -= 1
        if self._valid_at(self._coverage_id(key, head, index), timestamp):
            return True
    return False


@internal
@view
def _coverage_id(key: bytes32, head: uint256, index: uint256) -> uint256:
    if index < HEAD_IDS:
        return (head >> (40 + 40 * index)) & MASK_40
    rest: uint256 = index - HEAD_IDS
    return (self._coverage[key][1 + rest // PAGE_IDS] >> (40 * (rest % PAGE_IDS))) & MASK_40


@internal
@view
def _offer_digest(offer: Offer) -> bytes32:
    domains_hash: bytes32 = keccak256(
        slice(abi_encode(offer.domains, ensure_tuple=False), 32, 32 * len(offer.domains))
    )
    struct_hash: bytes32 = keccak256(
        abi_encode(
            OFFER_TYPEHASH,
            offer.seller,
            offer.buyer,
            offer.registration_id,
            offer.licence_type,
            offer.territory,
            offer.duration,
            offer.seats,
            domains_hash,
            offer.currency,
            offer.price,
            offer.max_fee_bps,
            offer.max_sales,
            offer.expiry,
            offer.counter,
            offer.salt,
        )
    )
    return eip712_domain_separator._hash_typed_data_v4(struct_hash)


@internal
@pure
def _covered_domains(offer: Offer, domains: DynArray[bytes32, MAX_DOMAINS]) -> DynArray[bytes32, MAX_DOMAINS]:
    covered: DynArray[bytes32, MAX_DOMAINS] = offer.domains
    if len(covered) != 0:
        assert len(domains) == 0, "market: the offer already names the domains"
    else:
        assert len(domains) != 0, "market: name at least one domain"
        covered = domains
    for d: bytes32 in covered:
        assert d != empty(bytes32), "market: empty domain hash"
    return covered


@internal
@pure
def _country(territory: bytes32, index: uint256) -> uint256:
    return (convert(territory, uint256) >> (240 - 16 * index)) & 65535


@internal
@pure
def _check_territory(territory: bytes32):
    for i: uint256 in range(MAX_COUNTRIES):
        code: uint256 = self._country(territory, i)
        if code == 0:
            # The codes after the last one (the bits below it) must all be empty.
            assert convert(territory, uint256) & ((1 << (240 - 16 * i)) - 1) == 0, "market: malformed territory (gap between country codes)"
            break
        high: uint256 = code >> 8
        low: uint256 = code % 256
        assert high >= 65 and high <= 90 and low >= 65 and low <= 90, "market: malformed territory (codes are upper-case ISO 3166 alpha-2)"


@internal
@pure
def _territories_overlap(a: bytes32, b: bytes32) -> bool:
    if a == empty(bytes32) or b == empty(bytes32):
        return True
    for i: uint256 in range(MAX_COUNTRIES):
        code_a: uint256 = self._country(a, i)
        if code_a == 0:
            break
        for j: uint256 in range(MAX_COUNTRIES):
            code_b: uint256 = self._country(b, j)
            if code_b == 0:
                break
            if code_a == code_b:
                return True
    return False


@internal
def _pull_token(payer: address, amount: uint256):
    before: uint256 = staticcall IERC20(CPY).balanceOf(self)
    assert extcall IERC20(CPY).transferFrom(payer, self, amount, default_return_value=True), "market: token transfer failed"
    assert staticcall IERC20(CPY).balanceOf(self) == before + amount, "market: token transfer delivered less than the price"
