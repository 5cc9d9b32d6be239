# pragma version ~=0.4.3
"""
@title Copytrack Licence Market
@license GNU Affero General Public License v3.0 or later
@notice Licences for registered images, sold from EIP-712-signed offers.
        The owner of a registration signs an `Offer` off-chain (it costs
        nothing to publish, like a Seaport order); a buyer presents the
        offer and its signature to `buy`. The purchase price goes into
        escrow and the licence is recorded on-chain at once, so
        `is_licensed` answers for it immediately and `licence(id)` is a
        certificate anyone can verify from chain data alone.

        Claim window: the register lets the revealer of an earlier
        commitment take a registration over for `MAX_COMMITMENT_AGE` after
        its priority time. No licence is sold in that window, so a copier
        who registered someone else's image first cannot sell licences
        that would outlive the author's claim.

        Money: the price stays in escrow for the dispute window. Within the
        window the buyer may `dispute`; an arbiter (ARBITER_ROLE) then
        refunds the buyer (the licence is revoked) or releases the escrow;
        if the arbiter has not decided `ARBITRATION_PERIOD` after the
        dispute, anyone may release it to the seller. The seller may refund
        the buyer in full while the money is held or disputed
        (`seller_refund`). The arbiter may `revoke` any licence for fraud
        without a dispute, refunding the buyer if the money is still held.
        After the window anyone may `release`: the platform fee (basis
        points, fixed at purchase) is credited to the treasury recorded at
        purchase and the rest to the seller. Every credit is a pull
        payment: `withdraw(asset)`.

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
    def registration(id: uint256) -> Registration: view
    def MAX_COMMITMENT_AGE() -> uint256: view


# @dev Most domains one licence can cover.
MAX_DOMAINS: constant(uint256) = 8
# @dev Most exclusive licences of one registration running at once.
MAX_RUNNING_EXCLUSIVES: constant(uint256) = 16
# @dev Most licences one licensee can hold for one registration.
MAX_LICENCES_PER_LICENSEE: constant(uint256) = 64
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

# @dev Bounds of the dispute window and of the platform fee.
MIN_DISPUTE_WINDOW: public(constant(uint256)) = 86_400
MAX_DISPUTE_WINDOW: public(constant(uint256)) = 30 * 86_400
DEFAULT_DISPUTE_WINDOW: public(constant(uint256)) = 7 * 86_400
# @dev Seconds after a dispute after which anyone may release the escrow to the seller.
ARBITRATION_PERIOD: public(constant(uint256)) = 30 * 86_400
MAX_FEE_BPS: public(constant(uint256)) = 2_000
BPS: constant(uint256) = 10_000

# @dev The role that resolves disputes.
ARBITER_ROLE: public(constant(bytes32)) = keccak256("ARBITER_ROLE")

# @dev EIP-712 type hash of an offer.
OFFER_TYPEHASH: public(constant(bytes32)) = keccak256(
    "Offer(address seller,address buyer,uint256 registration_id,uint8 licence_type,bytes32 territory,uint64 duration,uint16 seats,bytes32[] domains,address currency,uint256 price,uint16 max_fee_bps,uint32 max_sales,uint256 expiry,uint256 counter,uint256 salt)"
)


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


# @dev A licence certificate as recorded at purchase.
struct Licence:
    registration_id: uint256
    licensee: address
    seller: address
    offer_hash: bytes32
    licence_type: uint8
    territory: bytes32
    seats: uint16
    starts_at: uint256
    ends_at: uint256  # 0 = perpetual
    domains: DynArray[bytes32, MAX_DOMAINS]
    revoked: bool


# @dev The money of one purchase until release or refund.
struct Escrow:
    currency: address
    price: uint256
    fee: uint256
    treasury: address  # receives the fee; fixed at purchase
    release_at: uint256  # end of the dispute window; once disputed, end of the arbitration period
    status: uint8


# @dev The register whose `registration` decides who may sell, and from when.
REGISTER: public(immutable(address))
# @dev The register's claim window (`MAX_COMMITMENT_AGE`), read at deployment.
CLAIM_WINDOW: public(immutable(uint256))
# @dev The CPY token, the only ERC-20 accepted as payment.
CPY: public(immutable(address))

# @dev Receives platform fees.
treasury: public(address)
# @dev Platform fee in basis points, fixed for a licence at purchase.
fee_bps: public(uint256)
# @dev Seconds after a purchase during which the buyer may dispute.
dispute_window: public(uint256)

# @dev Number of licences sold; licence ids run from 1.
licence_count: public(uint256)
# @dev Licence certificates by licence id (read through `licence`).
_licences: HashMap[uint256, Licence]
# @dev The escrow of each purchase by licence id (read through `escrow`).
_escrows: HashMap[uint256, Escrow]
# @dev Licence ids of a registration by position (read through `licences_of`).
_registration_licences: HashMap[uint256, HashMap[uint256, uint256]]
# @dev Number of licences sold for a registration.
licence_count_of: public(HashMap[uint256, uint256])
# @dev Licence ids a licensee holds for a registration (searched by `is_licensed`).
_licensee_licences: HashMap[uint256, HashMap[address, DynArray[uint256, MAX_LICENCES_PER_LICENSEE]]]
# @dev Exclusive licences of a registration that may still run (pruned on every purchase).
_running_exclusives: HashMap[uint256, DynArray[uint256, MAX_RUNNING_EXCLUSIVES]]
# @dev Unrevoked perpetual non-exclusive licences of a registration.
perpetual_licence_count: public(HashMap[uint256, uint256])
# @dev Latest end of any timed non-exclusive licence of a registration (revoked ones included until recounted).
_timed_until: HashMap[uint256, uint256]
# @dev A running recount of `_timed_until`: the next licence index of the registration to scan.
recount_next: public(HashMap[uint256, uint256])
# @dev A running recount of `_timed_until`: the latest end of an unrevoked timed licence found so far.
recount_best: public(HashMap[uint256, uint256])

# @dev A seller's offer counter; bumping it cancels all their earlier offers.
counter: public(HashMap[address, uint256])
# @dev Offers cancelled one by one, by offer hash.
cancelled: public(HashMap[bytes32, bool])
# @dev Purchases made from an offer, by offer hash.
sales_of: public(HashMap[bytes32, uint32])

# @dev Withdrawable balances: account => asset (empty(address) = ETH) => amount.
credit: public(HashMap[address, HashMap[address, uint256]])
# @dev Total still held in escrow, per asset.
escrowed: public(HashMap[address, uint256])


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
    self.treasury = treasury
    self.fee_bps = fee_bps
    self.dispute_window = DEFAULT_DISPUTE_WINDOW


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
    @param signature The seller's signature (65 bytes; ERC-1271 for contracts).
    @param domains The domains (keccak256 hashes) to cover when the offer
           leaves them open; must be empty when the offer names them.
    @return uint256 The new licence id.
    """
    digest: bytes32 = self._check_offer(offer, signature)
    covered: DynArray[bytes32, MAX_DOMAINS] = self._covered_domains(offer, domains)
    self._check_territory(offer.territory)
    self._check_exclusivity(offer.registration_id, offer.licence_type, offer.territory)
    if offer.currency == empty(address):
        assert msg.value == offer.price, "market: sent ETH differs from the price"
    else:
        assert msg.value == 0, "market: ETH sent for a CPY offer"

    self.sales_of[digest] += 1
    licence_id: uint256 = self.licence_count + 1
    self.licence_count = licence_id
    ends_at: uint256 = 0
    if offer.duration != 0:
        ends_at = block.timestamp + convert(offer.duration, uint256)
    self._licences[licence_id] = Licence(
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
        revoked=False,
    )
    fee: uint256 = offer.price * self.fee_bps // BPS
    release_at: uint256 = block.timestamp + self.dispute_window
    self._escrows[licence_id] = Escrow(
        currency=offer.currency, price=offer.price, fee=fee, treasury=self.treasury, release_at=release_at, status=HELD
    )
    self.escrowed[offer.currency] += offer.price
    self._index_licence(licence_id, offer.registration_id, offer.licence_type, ends_at)
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
    self.cancelled[digest] = True
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
def dispute(licence_id: uint256, reason: String[200]):
    """
    @dev The buyer disputes a purchase within the dispute window; the
         escrow then waits for the arbiter, at most ARBITRATION_PERIOD
         (after that anyone may release it to the seller).
    @param licence_id The licence bought.
    @param reason Why, for the arbiter (for example: the seller is not the author).
    """
    escrow: Escrow = self._escrows[licence_id]
    assert escrow.status != 0, "market: unknown licence"
    assert self._licences[licence_id].licensee == msg.sender, "market: only the buyer can dispute"
    assert escrow.status == HELD, "market: escrow is not held"
    assert block.timestamp < escrow.release_at, "market: dispute window has closed"
    deadline: uint256 = block.timestamp + ARBITRATION_PERIOD
    self._escrows[licence_id].status = DISPUTED
    self._escrows[licence_id].release_at = deadline
    log Disputed(licence_id=licence_id, buyer=msg.sender, reason=reason, arbitration_deadline=deadline)


@external
def resolve(licence_id: uint256, refund: bool):
    """
    @dev The arbiter resolves a dispute: refund the buyer in full (the
         licence is revoked) or release the escrow to seller and treasury.
    @param licence_id The disputed licence.
    @param refund True to refund, False to release.
    """
    access_control._check_role(ARBITER_ROLE, msg.sender)
    escrow: Escrow = self._escrows[licence_id]
    assert escrow.status == DISPUTED, "market: licence is not disputed"
    if refund:
        self._revoke(licence_id)
        self._refund(licence_id, escrow)
    else:
        self._release(licence_id, escrow)


@external
def seller_refund(licence_id: uint256):
    """
    @dev The seller refunds the buyer in full of their own accord while
         the money is held or disputed; the licence is revoked.
    @param licence_id The licence to take back.
    """
    escrow: Escrow = self._escrows[licence_id]
    assert escrow.status != 0, "market: unknown licence"
    assert self._licences[licence_id].seller == msg.sender, "market: only the seller can refund"
    assert escrow.status == HELD or escrow.status == DISPUTED, "market: escrow already paid out"
    self._revoke(licence_id)
    self._refund(licence_id, escrow)


@external
def revoke(licence_id: uint256, reason: String[200]):
    """
    @dev The arbiter revokes a licence sold by fraud (for example by a
         copier who registered the image first), with or without a
         dispute. The buyer is refunded in full when the money is still
         held or disputed; after release it is gone and `refunded` is 0.
    @param licence_id The licence to revoke.
    @param reason Why, for the record.
    """
    access_control._check_role(ARBITER_ROLE, msg.sender)
    escrow: Escrow = self._escrows[licence_id]
    assert escrow.status != 0, "market: unknown licence"
    assert not self._licences[licence_id].revoked, "market: licence already revoked"
    self._revoke(licence_id)
    refunded: uint256 = 0
    if escrow.status == HELD or escrow.status == DISPUTED:
        refunded = escrow.price
        self._refund(licence_id, escrow)
    log LicenceRevoked(
        licence_id=licence_id, licensee=self._licences[licence_id].licensee, refunded=refunded, reason=reason, arbiter=msg.sender
    )


@external
def release(licence_id: uint256):
    """
    @dev Releases an escrow to seller and treasury; anyone may call it.
         An undisputed escrow once the dispute window has passed; a
         disputed one once ARBITRATION_PERIOD has passed since the dispute
         without a decision of the arbiter.
    @param licence_id The licence whose escrow to release.
    """
    escrow: Escrow = self._escrows[licence_id]
    assert escrow.status != 0, "market: unknown licence"
    assert escrow.status == HELD or escrow.status == DISPUTED, "market: escrow already paid out"
    if escrow.status == HELD:
        assert block.timestamp >= escrow.release_at, "market: dispute window still open"
    else:
        assert block.timestamp >= escrow.release_at, "market: arbitration period still running"
    self._release(licence_id, escrow)


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
    total: uint256 = self.licence_count_of[registration_id]
    for _: uint256 in range(max_steps, bound=MAX_RECOUNT_STEPS):
        if index >= total:
            break
        licence_id: uint256 = self._registration_licences[registration_id][index]
        ends_at: uint256 = self._licences[licence_id].ends_at
        if ends_at > best and self._licences[licence_id].licence_type != EXCLUSIVE and not self._licences[licence_id].revoked:
            best = ends_at
        index += 1
    if index < total:
        self.recount_next[registration_id] = index
        self.recount_best[registration_id] = best
        return False
    previous: uint256 = self._timed_until[registration_id]
    self._timed_until[registration_id] = best
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
    log TreasuryChanged(previous_treasury=self.treasury, new_treasury=new_treasury)
    self.treasury = new_treasury


@external
def set_fee_bps(new_fee_bps: uint256):
    """
    @dev Changes the platform fee for future purchases (admin only).
    @param new_fee_bps The fee in basis points, at most MAX_FEE_BPS.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert new_fee_bps <= MAX_FEE_BPS, "market: fee above MAX_FEE_BPS"
    log FeeChanged(previous_fee_bps=self.fee_bps, new_fee_bps=new_fee_bps)
    self.fee_bps = new_fee_bps


@external
def set_dispute_window(new_window: uint256):
    """
    @dev Changes the dispute window for future purchases (admin only).
    @param new_window Seconds, between MIN_DISPUTE_WINDOW and MAX_DISPUTE_WINDOW.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert new_window >= MIN_DISPUTE_WINDOW, "market: dispute window below MIN_DISPUTE_WINDOW"
    assert new_window <= MAX_DISPUTE_WINDOW, "market: dispute window above MAX_DISPUTE_WINDOW"
    log DisputeWindowChanged(previous_window=self.dispute_window, new_window=new_window)
    self.dispute_window = new_window


@external
@view
def licence(licence_id: uint256) -> Licence:
    """
    @dev The licence certificate as recorded on-chain.
    @param licence_id The licence id.
    @return Licence The licence (registration_id 0 when unknown).
    """
    return self._licences[licence_id]


@external
@view
def escrow(licence_id: uint256) -> Escrow:
    """
    @dev The escrow of a purchase.
    @param licence_id The licence id.
    @return Escrow The escrow (status 0 when unknown).
    """
    return self._escrows[licence_id]


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
    total: uint256 = self.licence_count_of[registration_id]
    for i: uint256 in range(MAX_PAGE):
        if i >= limit or offset + i >= total:
            break
        ids.append(self._registration_licences[registration_id][offset + i])
    return ids


@external
@view
def is_licensed(registration_id: uint256, licensee: address, domain_hash: bytes32, timestamp: uint256) -> bool:
    """
    @dev Whether `licensee` held a licence for `registration_id` covering
         `domain_hash` at `timestamp` (revoked licences never count).
    @param registration_id The registration.
    @param licensee The account that bought the licence.
    @param domain_hash keccak256 of the host name: lower case, punycode, no scheme, port or trailing dot (`normalise_domain` in the bindings).
    @param timestamp The moment to check (a crawl time, say).
    @return bool True when licensed.
    """
    for licence_id: uint256 in self._licensee_licences[registration_id][licensee]:
        lic: Licence = self._licences[licence_id]
        if lic.revoked or timestamp < lic.starts_at:
            continue
        if lic.ends_at != 0 and timestamp >= lic.ends_at:
            continue
        if domain_hash in lic.domains:
            return True
    return False


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
    return self._licensed_until(registration_id)


@internal
@view
def _licensed_until(registration_id: uint256) -> uint256:
    if self.perpetual_licence_count[registration_id] != 0:
        return max_value(uint256)
    return self._timed_until[registration_id]


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
@view
def _check_offer(offer: Offer, signature: Bytes[65]) -> bytes32:
    assert offer.expiry > block.timestamp, "market: offer expired"
    assert offer.counter == self.counter[offer.seller], "market: offer cancelled"
    digest: bytes32 = self._offer_digest(offer)
    assert not self.cancelled[digest], "market: offer cancelled"
    assert self.sales_of[digest] < offer.max_sales, "market: offer sold out"
    assert offer.licence_type <= EXCLUSIVE, "market: unknown licence type"
    assert offer.seats != 0, "market: offer has no seats"
    assert offer.currency == empty(address) or offer.currency == CPY, "market: unsupported currency"
    assert offer.seller != empty(address), "market: offer has no seller"
    assert offer.buyer == empty(address) or offer.buyer == msg.sender, "market: offer reserved for another buyer"
    assert self.fee_bps <= convert(offer.max_fee_bps, uint256), "market: platform fee above the offer's max_fee_bps"
    registration: Registration = staticcall Register(REGISTER).registration(offer.registration_id)
    assert registration.owner == offer.seller, "market: seller does not own the registration"
    assert block.timestamp >= registration.registered_at + CLAIM_WINDOW, "market: registration still in its claim window"
    assert signature_checker._is_valid_signature_now(offer.seller, digest, signature), "market: invalid offer signature"
    return digest


@internal
@pure
def _covered_domains(offer: Offer, domains: DynArray[bytes32, MAX_DOMAINS]) -> DynArray[bytes32, MAX_DOMAINS]:
    if len(offer.domains) != 0:
        assert len(domains) == 0, "market: the offer already names the domains"
        return offer.domains
    assert len(domains) != 0, "market: name at least one domain"
    for d: bytes32 in domains:
        assert d != empty(bytes32), "market: empty domain hash"
    return domains


@internal
@pure
def _country(territory: bytes32, index: uint256) -> uint256:
    return (convert(territory, uint256) >> (240 - 16 * index)) & 65535


@internal
@pure
def _check_territory(territory: bytes32):
    ended: bool = False
    for i: uint256 in range(MAX_COUNTRIES):
        code: uint256 = self._country(territory, i)
        if code == 0:
            ended = True
            continue
        assert not ended, "market: malformed territory (gap between country codes)"
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
@view
def _runs_at(lic: Licence, timestamp: uint256) -> bool:
    return not lic.revoked and (lic.ends_at == 0 or lic.ends_at > timestamp)


@internal
def _check_exclusivity(registration_id: uint256, licence_type: uint8, territory: bytes32):
    running: DynArray[uint256, MAX_RUNNING_EXCLUSIVES] = []
    for licence_id: uint256 in self._running_exclusives[registration_id]:
        lic: Licence = self._licences[licence_id]
        if self._runs_at(lic, block.timestamp):
            running.append(licence_id)
            assert not self._territories_overlap(lic.territory, territory), "market: an exclusive licence runs in this territory"
    if len(running) != len(self._running_exclusives[registration_id]):
        self._running_exclusives[registration_id] = running
    if licence_type == EXCLUSIVE:
        assert self._licensed_until(registration_id) <= block.timestamp, "market: other licences still run, no exclusive licence possible"
        assert len(running) < MAX_RUNNING_EXCLUSIVES, "market: too many exclusive licences running"


@internal
def _index_licence(licence_id: uint256, registration_id: uint256, licence_type: uint8, ends_at: uint256):
    index: uint256 = self.licence_count_of[registration_id]
    self._registration_licences[registration_id][index] = licence_id
    self.licence_count_of[registration_id] = index + 1
    if len(self._licensee_licences[registration_id][msg.sender]) == MAX_LICENCES_PER_LICENSEE:
        self._prune_licensee_licences(registration_id, msg.sender)
    assert len(self._licensee_licences[registration_id][msg.sender]) < MAX_LICENCES_PER_LICENSEE, "market: licensee holds too many licences for this registration"
    self._licensee_licences[registration_id][msg.sender].append(licence_id)
    if licence_type == EXCLUSIVE:
        self._running_exclusives[registration_id].append(licence_id)
    elif ends_at == 0:
        self.perpetual_licence_count[registration_id] += 1
    elif ends_at > self._timed_until[registration_id]:
        self._timed_until[registration_id] = ends_at


@internal
def _prune_licensee_licences(registration_id: uint256, licensee: address):
    kept: DynArray[uint256, MAX_LICENCES_PER_LICENSEE] = []
    for licence_id: uint256 in self._licensee_licences[registration_id][licensee]:
        if self._runs_at(self._licences[licence_id], block.timestamp):
            kept.append(licence_id)
    self._licensee_licences[registration_id][licensee] = kept


@internal
def _revoke(licence_id: uint256):
    lic: Licence = self._licences[licence_id]
    self._licences[licence_id].revoked = True
    if lic.licence_type != EXCLUSIVE and lic.ends_at == 0:
        self.perpetual_licence_count[lic.registration_id] -= 1


@internal
def _refund(licence_id: uint256, escrow: Escrow):
    buyer: address = self._licences[licence_id].licensee
    self._escrows[licence_id].status = REFUNDED
    self.escrowed[escrow.currency] -= escrow.price
    self.credit[buyer][escrow.currency] += escrow.price
    log Refunded(licence_id=licence_id, buyer=buyer, amount=escrow.price, refunded_by=msg.sender)


@internal
def _release(licence_id: uint256, escrow: Escrow):
    seller: address = self._licences[licence_id].seller
    seller_amount: uint256 = escrow.price - escrow.fee
    self._escrows[licence_id].status = RELEASED
    self.escrowed[escrow.currency] -= escrow.price
    self.credit[seller][escrow.currency] += seller_amount
    self.credit[escrow.treasury][escrow.currency] += escrow.fee
    log Released(licence_id=licence_id, seller=seller, seller_amount=seller_amount, fee=escrow.fee, released_by=msg.sender)


@internal
def _pull_token(payer: address, amount: uint256):
    before: uint256 = staticcall IERC20(CPY).balanceOf(self)
    assert extcall IERC20(CPY).transferFrom(payer, self, amount, default_return_value=True), "market: token transfer failed"
    assert staticcall IERC20(CPY).balanceOf(self) == before + amount, "market: token transfer delivered less than the price"
