# pragma version ~=0.4.3
"""
@title CPY crowdsale: capped, allow-listed, claim after finalization
@custom:contract-name CPYSale
@license GNU Affero General Public License v3.0 only
@notice Sells the CPY it holds (60,000,000 CPY from the token's
        constructor) for ETH within a fixed window:
        - price: `base_rate` CPY per ETH, optionally preceded by early-bird
          tranches priced by tokens sold; a purchase that crosses a tranche
          limit is priced piecewise. Where a tranche limit is not a whole
          multiple of its rate, the last token units of the tranche cost
          one wei more (rounding always favours the sale, by less than
          one wei per tranche);
        - hard cap: at most `hard_cap` token units are sold; the purchase
          that reaches it is filled partially and the ETH it could not use
          is credited to the buyer, who withdraws it with `withdraw_refund`
          (never pushed inside the purchase);
        - limits: every purchase sends at least `min_contribution` wei, and
          no investor contributes more than `max_contribution` wei in total;
        - allow-list: only investors listed by a KYC operator (in batches)
          or proven against the operators' Merkle root may buy. The buyer is
          always `msg.sender`: there is no buying for someone else. An
          operator's removal is a revocation that no Merkle proof undoes;
          only listing the investor again in a batch lifts it;
        - delivery: nothing is sold before the sale holds the tokens it
          sells. The first purchase checks the token balance; once
          anything is sold (`tokens_sold > 0`, which only a checked
          purchase can cause) the check is not repeated, so later
          purchases pay nothing for it. ETH can never be paid into a sale
          that has nothing to deliver;
        - soft cap reachable: the constructor refuses a soft cap above the
          wei the whole hard cap raises (tranches and base rate, rounded
          down);
        - tokens are owed during the sale and claimed after `finalize`,
          which anyone may call once the window has closed or the cap is
          reached; finalization burns every unsold token;
        - soft cap (optional, in wei): if it was not reached at
          finalization, every token held is burned and each investor
          withdraws their whole contribution with `withdraw_refund`;
        - after a successful finalization anyone may call `withdraw_funds`,
          which always sends the raised ETH to the fixed sale wallet (so a
          contract wallet that cannot make arbitrary calls is paid too);
        - the admin (DEFAULT_ADMIN_ROLE) can pause purchases only; claims,
          refunds, finalization and withdrawals keep working.
        Glossary: "token units" are 10**-18 CPY; "rate" is CPY per ETH,
        which is also token units per wei.
"""

from ethereum.ercs import IERC20

from snekmate.auth import access_control
from snekmate.utils import pausable
from snekmate.utils import merkle_proof_verification

initializes: access_control
initializes: pausable

exports: (
    access_control.__interface__,
    pausable.paused,
)


interface IBurnableToken:
    def burn(amount: uint256): nonpayable


# @dev The most early-bird tranches a sale can have.
MAX_TRANCHES: constant(uint256) = 4

# @dev The most addresses one allow-list transaction can change.
MAX_ALLOW_LIST_BATCH: constant(uint256) = 256

# @dev The deepest Merkle proof accepted (2**32 leaves).
MAX_PROOF_DEPTH: constant(uint256) = 32

# @dev The role of the operators who maintain the allow-list.
KYC_OPERATOR_ROLE: public(constant(bytes32)) = keccak256("KYC_OPERATOR_ROLE")

# @dev The CPY token sold.
token: public(immutable(address))

# @dev The only address the raised ETH is ever sent to.
sale_wallet: public(immutable(address))

# @dev The first second purchases are accepted (Unix time).
opening_time: public(immutable(uint256))

# @dev The last second purchases are accepted (Unix time).
closing_time: public(immutable(uint256))

# @dev CPY per ETH once every early-bird tranche is sold.
base_rate: public(immutable(uint256))

# @dev Cumulative tokens sold up to which each early-bird tranche applies.
tranche_limits: public(immutable(DynArray[uint256, MAX_TRANCHES]))

# @dev CPY per ETH of each early-bird tranche.
tranche_rates: public(immutable(DynArray[uint256, MAX_TRANCHES]))

# @dev The most token units the sale can sell.
hard_cap: public(immutable(uint256))

# @dev The wei that must be raised for the sale to succeed (0: none).
soft_cap: public(immutable(uint256))

# @dev The least wei one purchase must send.
min_contribution: public(immutable(uint256))

# @dev The most wei one investor may contribute over all purchases.
max_contribution: public(immutable(uint256))

# @dev Token units sold so far.
tokens_sold: public(uint256)

# @dev Wei accepted for tokens so far (excess credited back excluded).
wei_raised: public(uint256)

# @dev Wei each investor has paid for tokens and not had refunded.
contribution_of: public(HashMap[address, uint256])

# @dev Token units each investor has bought and not yet claimed.
tokens_owed: public(HashMap[address, uint256])

# @dev Wei each investor may withdraw now that no purchase used
#      (the excess of a purchase that reached the hard cap).
excess_of: public(HashMap[address, uint256])

# @dev Token units claimed so far.
tokens_claimed: public(uint256)

# @dev Contributions paid back after a failed soft cap, in wei.
wei_refunded: public(uint256)

# @dev Wei the sale wallet has withdrawn.
funds_withdrawn: public(uint256)

# @dev True once `finalize` has run.
finalized: public(bool)

# @dev Investors allowed to buy (set in batches or by a Merkle proof).
is_allow_listed: public(HashMap[address, bool])

# @dev Investors a KYC operator removed: no Merkle proof re-admits them,
#      only `add_to_allow_list` does. A revoked investor is never
#      allow-listed at the same time.
is_revoked: public(HashMap[address, bool])

# @dev Root of the Merkle allow-list (OpenZeppelin StandardMerkleTree,
#      leaf encoding ["address"]); zero when there is none.
allow_list_root: public(bytes32)


# @dev Emitted for every purchase.
event TokensPurchased:
    investor: indexed(address)
    wei_amount: uint256
    token_amount: uint256

# @dev Emitted when a purchase reaching the hard cap leaves ETH unused.
event ExcessCredited:
    investor: indexed(address)
    wei_amount: uint256

# @dev Emitted when an investor withdraws ETH (excess or contribution).
event RefundWithdrawn:
    investor: indexed(address)
    wei_amount: uint256

# @dev Emitted when an investor claims their tokens.
event TokensClaimed:
    investor: indexed(address)
    token_amount: uint256

# @dev Emitted once, when the sale is finalized.
event SaleFinalized:
    caller: indexed(address)
    tokens_sold: uint256
    wei_raised: uint256
    soft_cap_reached: bool

# @dev Emitted at finalization for the tokens destroyed.
event UnsoldTokensBurned:
    token_amount: uint256

# @dev Emitted when raised ETH is sent to the sale wallet; `caller`
#      triggered it (anyone may).
event FundsWithdrawn:
    wallet: indexed(address)
    wei_amount: uint256
    caller: indexed(address)

# @dev Emitted once, by the first purchase, when it finds the sale holding
#      the tokens it sells.
event TokensDeliveryConfirmed:
    token_amount: uint256

# @dev Emitted when an investor is added to the allow-list (or a
#      revocation is lifted); `operator` is the sale itself when the
#      investor proved a Merkle leaf.
event InvestorAllowListed:
    investor: indexed(address)
    operator: indexed(address)

# @dev Emitted when an operator removes (revokes) an investor.
event InvestorRemovedFromAllowList:
    investor: indexed(address)
    operator: indexed(address)

# @dev Emitted when the Merkle allow-list root changes.
event AllowListRootSet:
    root: bytes32
    operator: indexed(address)


@deploy
def __init__(
    token_: address,
    sale_wallet_: address,
    opening_time_: uint256,
    closing_time_: uint256,
    base_rate_: uint256,
    tranche_limits_: DynArray[uint256, MAX_TRANCHES],
    tranche_rates_: DynArray[uint256, MAX_TRANCHES],
    hard_cap_: uint256,
    soft_cap_: uint256,
    min_contribution_: uint256,
    max_contribution_: uint256,
):
    """
    @dev Fixes every rule of the sale; the deployer becomes the admin
         (pause, role management). The token address may not be
         deployed yet: the CPY token is created after the sale and checks
         `token()` before sending it its allocation.
    @param token_ The CPY token sold.
    @param sale_wallet_ The address that withdraws the raised ETH.
    @param opening_time_ First second of the window (Unix time).
    @param closing_time_ Last second of the window (Unix time).
    @param base_rate_ CPY per ETH after the early-bird tranches.
    @param tranche_limits_ Strictly increasing cumulative token-unit
           limits of the early-bird tranches (empty for none).
    @param tranche_rates_ CPY per ETH of each tranche.
    @param hard_cap_ The most token units to sell.
    @param soft_cap_ Wei to raise for success; 0 for no soft cap.
    @param min_contribution_ Least wei per purchase.
    @param max_contribution_ Most wei per investor over all purchases.
    """
    assert token_ != empty(address), "sale: token is the zero address"
    assert sale_wallet_ != empty(address), "sale: sale wallet is the zero address"
    assert opening_time_ < closing_time_, "sale: opening time must precede closing time"
    assert base_rate_ > 0, "sale: rate must be positive"
    assert hard_cap_ > 0, "sale: hard cap must be positive"
    assert min_contribution_ > 0, "sale: minimum contribution must be positive"
    assert min_contribution_ <= max_contribution_, "sale: minimum contribution above maximum"
    assert len(tranche_limits_) == len(tranche_rates_), "sale: tranche limits and rates differ in length"
    previous_limit: uint256 = 0
    for i: uint256 in range(MAX_TRANCHES):
        if i == len(tranche_limits_):
            break
        assert tranche_limits_[i] > previous_limit, "sale: tranche limits must increase strictly"
        assert tranche_rates_[i] > 0, "sale: tranche rate must be positive"
        previous_limit = tranche_limits_[i]
    assert previous_limit <= hard_cap_, "sale: tranche limit above hard cap"
    assert soft_cap_ <= self._max_raise(
        base_rate_, tranche_limits_, tranche_rates_, hard_cap_
    ), "sale: soft cap above what the hard cap can raise"

    access_control.__init__()
    pausable.__init__()

    token = token_
    sale_wallet = sale_wallet_
    opening_time = opening_time_
    closing_time = closing_time_
    base_rate = base_rate_
    tranche_limits = tranche_limits_
    tranche_rates = tranche_rates_
    hard_cap = hard_cap_
    soft_cap = soft_cap_
    min_contribution = min_contribution_
    max_contribution = max_contribution_


@external
@payable
def __default__():
    """
    @dev Sending plain ETH to the sale buys tokens, exactly like
         `buy_tokens`. A call with data matching no function reverts
         instead of buying, so a mistyped call never spends ETH.
    """
    assert len(msg.data) == 0, "sale: unknown function, send plain ETH or call buy_tokens()"
    self._buy(msg.sender, msg.value)


@external
@payable
def buy_tokens():
    """
    @dev Buys tokens for the caller with `msg.value`; the tokens are owed
         until they are claimed after finalization. A purchase that
         reaches the hard cap is filled partially and the unused ETH is
         credited to the caller (see `withdraw_refund`).
    """
    self._buy(msg.sender, msg.value)


@external
@payable
def buy_tokens_with_proof(proof: DynArray[bytes32, MAX_PROOF_DEPTH]):
    """
    @dev Proves the caller is in the Merkle allow-list (once; the caller
         stays allow-listed) and buys tokens like `buy_tokens`. An
         investor an operator removed cannot prove themselves back.
    @param proof The Merkle proof of the leaf
           `keccak256(keccak256(abi_encode(msg.sender)))`.
    """
    assert not self.is_revoked[msg.sender], "sale: investor was removed from the allow-list"
    if not self.is_allow_listed[msg.sender]:
        leaf: bytes32 = keccak256(keccak256(abi_encode(msg.sender)))
        root: bytes32 = self.allow_list_root
        assert root != empty(bytes32), "sale: no Merkle allow-list has been set"
        assert merkle_proof_verification._verify(proof, root, leaf), "sale: invalid allow-list proof"
        self.is_allow_listed[msg.sender] = True
        log InvestorAllowListed(investor=msg.sender, operator=self)
    self._buy(msg.sender, msg.value)


@external
@nonreentrant
def claim():
    """
    @dev Sends the caller every token they bought. Only after a
         successful finalization.
    """
    assert self.finalized, "sale: not finalized yet"
    assert self._soft_cap_reached(), "sale: soft cap not reached, withdraw a refund instead"
    amount: uint256 = self.tokens_owed[msg.sender]
    assert amount > 0, "sale: nothing to claim"
    self.tokens_owed[msg.sender] = 0
    self.tokens_claimed += amount
    log TokensClaimed(investor=msg.sender, token_amount=amount)
    assert extcall IERC20(token).transfer(msg.sender, amount, default_return_value=True), "sale: token transfer failed"


@external
@nonreentrant
def withdraw_refund():
    """
    @dev Sends the caller every wei owed to them: the unused excess of a
         purchase that reached the hard cap, and, after a finalization
         that missed the soft cap, their whole contribution. The call
         forwards all remaining gas, so contract wallets work.
    """
    amount: uint256 = self._refundable(msg.sender)
    assert amount > 0, "sale: nothing to refund"
    self.excess_of[msg.sender] = 0
    if self.finalized and not self._soft_cap_reached():
        contribution: uint256 = self.contribution_of[msg.sender]
        self.contribution_of[msg.sender] = 0
        self.tokens_owed[msg.sender] = 0
        self.wei_refunded += contribution
    log RefundWithdrawn(investor=msg.sender, wei_amount=amount)
    assert raw_call(msg.sender, b"", value=amount, revert_on_failure=False), "sale: refund transfer failed"


@external
@nonreentrant
def finalize():
    """
    @dev Ends the sale once the window has closed or the hard cap is
         reached. Callable by anyone, once. Burns every token the sale
         holds beyond those owed to investors; if the soft cap was missed,
         burns them all.
    """
    assert not self.finalized, "sale: already finalized"
    assert block.timestamp > closing_time or self.tokens_sold >= hard_cap, "sale: still open and below the hard cap"
    self.finalized = True
    succeeded: bool = self._soft_cap_reached()
    log SaleFinalized(
        caller=msg.sender,
        tokens_sold=self.tokens_sold,
        wei_raised=self.wei_raised,
        soft_cap_reached=succeeded,
    )
    to_burn: uint256 = staticcall IERC20(token).balanceOf(self)
    if succeeded:
        to_burn -= self.tokens_sold
    if to_burn > 0:
        log UnsoldTokensBurned(token_amount=to_burn)
        extcall IBurnableToken(token).burn(to_burn)


@external
@nonreentrant
def withdraw_funds():
    """
    @dev Sends the raised ETH to the sale wallet. Anyone may call it (the
         destination is fixed), so a contract wallet that cannot make
         arbitrary calls still receives the funds. Only after a
         finalization that reached the soft cap.
    """
    assert self.finalized, "sale: not finalized yet"
    assert self._soft_cap_reached(), "sale: soft cap not reached, raised funds are refundable"
    amount: uint256 = self.wei_raised - self.funds_withdrawn
    assert amount > 0, "sale: nothing to withdraw"
    self.funds_withdrawn += amount
    log FundsWithdrawn(wallet=sale_wallet, wei_amount=amount, caller=msg.sender)
    assert raw_call(sale_wallet, b"", value=amount, revert_on_failure=False), "sale: funds transfer failed"


@external
def add_to_allow_list(investors: DynArray[address, MAX_ALLOW_LIST_BATCH]):
    """
    @dev Allow-lists a batch of investors, lifting any revocation.
         Already listed ones are skipped without an event.
    @param investors Up to 256 addresses, none of them zero.
    """
    self._check_kyc_operator()
    for investor: address in investors:
        assert investor != empty(address), "sale: zero address in allow-list batch"
        if not self.is_allow_listed[investor]:
            self.is_allow_listed[investor] = True
            if self.is_revoked[investor]:
                self.is_revoked[investor] = False
            log InvestorAllowListed(investor=investor, operator=msg.sender)


@external
def remove_from_allow_list(investors: DynArray[address, MAX_ALLOW_LIST_BATCH]):
    """
    @dev Revokes a batch of investors: they keep what they bought but
         cannot buy more, and no Merkle proof re-admits them (including
         investors in the root who never proved themselves). Only
         `add_to_allow_list` lifts a revocation. Already revoked ones are
         skipped without an event.
    @param investors Up to 256 addresses.
    """
    self._check_kyc_operator()
    for investor: address in investors:
        if not self.is_revoked[investor]:
            self.is_allow_listed[investor] = False
            self.is_revoked[investor] = True
            log InvestorRemovedFromAllowList(investor=investor, operator=msg.sender)


@external
def set_allow_list_root(root: bytes32):
    """
    @dev Sets the Merkle allow-list root (zero disables proofs).
    @param root The root of an OpenZeppelin StandardMerkleTree of
           ["address"] leaves.
    """
    self._check_kyc_operator()
    self.allow_list_root = root
    log AllowListRootSet(root=root, operator=msg.sender)


@external
def pause():
    """
    @dev Stops purchases (and only purchases). Admin only.
    """
    self._check_admin()
    assert not pausable.paused, "sale: purchases are already paused"
    pausable._pause()


@external
def unpause():
    """
    @dev Lets purchases resume. Admin only.
    """
    self._check_admin()
    assert pausable.paused, "sale: purchases are not paused"
    pausable._unpause()


@external
@view
def rate() -> uint256:
    """
    @dev The CPY per ETH the next token unit sells at.
    @return uint256 The current rate.
    """
    sold: uint256 = self.tokens_sold
    for i: uint256 in range(MAX_TRANCHES):
        if i == len(tranche_limits):
            break
        if sold < tranche_limits[i]:
            return tranche_rates[i]
    return base_rate


@external
@view
def tranche_count() -> uint256:
    """
    @dev The number of early-bird tranches.
    @return uint256 The length of `tranche_limits` and `tranche_rates`.
    """
    return len(tranche_limits)


@external
@view
def quote(wei_amount: uint256) -> (uint256, uint256):
    """
    @dev What a purchase of `wei_amount` would get now, ignoring the
         caller's limits and the window.
    @param wei_amount The wei to spend.
    @return uint256 The token units bought.
    @return uint256 The wei used (the rest would be credited back).
    """
    return self._price(wei_amount, self.tokens_sold)


@external
@view
def is_open() -> bool:
    """
    @dev Whether purchases are accepted now: inside the window, not
         paused, not finalized, and below the hard cap.
    @return bool True if an allow-listed investor can buy now.
    """
    return (
        block.timestamp >= opening_time
        and block.timestamp <= closing_time
        and not pausable.paused
        and not self.finalized
        and self.tokens_sold < hard_cap
    )


@external
@view
def soft_cap_reached() -> bool:
    """
    @dev Whether the raised ETH has reached the soft cap.
    @return bool True when `wei_raised >= soft_cap`.
    """
    return self._soft_cap_reached()


@external
@view
def refundable(investor: address) -> uint256:
    """
    @dev The wei `withdraw_refund` would send `investor` now.
    @param investor The investor to look up.
    @return uint256 The refundable wei.
    """
    return self._refundable(investor)


@internal
def _buy(investor: address, offered: uint256):
    """
    @dev The purchase rules; owes tokens and credits unused ETH.
    @param investor The buyer (always `msg.sender`).
    @param offered The wei sent.
    """
    assert block.timestamp >= opening_time, "sale: not open yet"
    assert block.timestamp <= closing_time, "sale: closed"
    assert not self.finalized, "sale: already finalized"
    assert not pausable.paused, "sale: purchases are paused"
    if not self.is_allow_listed[investor]:
        assert not self.is_revoked[investor], "sale: investor was removed from the allow-list"
        raise "sale: investor not on allow-list"
    assert offered >= min_contribution, "sale: below minimum contribution"
    sold: uint256 = self.tokens_sold
    assert sold < hard_cap, "sale: hard cap reached"
    if sold == 0:
        self._confirm_delivery()

    tokens: uint256 = 0
    accepted: uint256 = 0
    tokens, accepted = self._price(offered, sold)
    contribution: uint256 = self.contribution_of[investor] + accepted
    assert contribution <= max_contribution, "sale: above maximum contribution"

    self.tokens_sold = sold + tokens
    self.wei_raised += accepted
    self.contribution_of[investor] = contribution
    self.tokens_owed[investor] += tokens
    log TokensPurchased(investor=investor, wei_amount=accepted, token_amount=tokens)
    excess: uint256 = offered - accepted
    if excess > 0:
        self.excess_of[investor] += excess
        log ExcessCredited(investor=investor, wei_amount=excess)


@internal
@view
def _price(offered: uint256, sold: uint256) -> (uint256, uint256):
    """
    @dev Prices `offered` wei piecewise over the tranches from `sold` on,
         stopping at the hard cap.
    @param offered The wei offered.
    @param sold The token units sold before this purchase.
    @return uint256 The token units bought.
    @return uint256 The wei used.
    """
    remaining: uint256 = offered
    position: uint256 = sold
    tokens: uint256 = 0
    for i: uint256 in range(MAX_TRANCHES + 1):
        limit: uint256 = hard_cap
        rate: uint256 = base_rate
        if i < len(tranche_limits):
            limit = tranche_limits[i]
            rate = tranche_rates[i]
        if position < limit:
            room: uint256 = limit - position
            affordable: uint256 = remaining * rate
            if affordable <= room:
                tokens += affordable
                remaining = 0
                break
            tokens += room
            position = limit
            remaining -= (room + rate - 1) // rate
        if i == len(tranche_limits):
            break
    return tokens, offered - remaining


@internal
def _confirm_delivery():
    """
    @dev Reverts unless the sale holds the whole hard cap. Called by the
         first purchase only (nothing sold yet), so `hard_cap` is what it
         may still sell.
    """
    assert token.is_contract, "sale: tokens not delivered yet"
    balance: uint256 = staticcall IERC20(token).balanceOf(self)
    assert balance >= hard_cap, "sale: tokens not delivered yet"
    log TokensDeliveryConfirmed(token_amount=balance)


@internal
@pure
def _max_raise(
    base_rate_: uint256,
    tranche_limits_: DynArray[uint256, MAX_TRANCHES],
    tranche_rates_: DynArray[uint256, MAX_TRANCHES],
    hard_cap_: uint256,
) -> uint256:
    """
    @dev The wei raised when the whole hard cap is sold, each tranche and
         the base-rate remainder rounded down (a lower bound of what the
         sale can raise, so a soft cap under it is always reachable).
    @param base_rate_ CPY per ETH after the tranches.
    @param tranche_limits_ Cumulative token-unit limits of the tranches.
    @param tranche_rates_ CPY per ETH of each tranche.
    @param hard_cap_ The most token units to sell.
    @return uint256 The wei.
    """
    raised: uint256 = 0
    position: uint256 = 0
    for i: uint256 in range(MAX_TRANCHES):
        if i == len(tranche_limits_):
            break
        raised += (tranche_limits_[i] - position) // tranche_rates_[i]
        position = tranche_limits_[i]
    return raised + (hard_cap_ - position) // base_rate_


@internal
@view
def _soft_cap_reached() -> bool:
    """
    @dev Whether `wei_raised` has reached the soft cap.
    @return bool True when the sale counts as successful.
    """
    return self.wei_raised >= soft_cap


@internal
@view
def _refundable(investor: address) -> uint256:
    """
    @dev The wei owed to `investor` now.
    @param investor The investor to look up.
    @return uint256 Excess credit plus, after a failed soft cap, the
            contribution.
    """
    amount: uint256 = self.excess_of[investor]
    if self.finalized and not self._soft_cap_reached():
        amount += self.contribution_of[investor]
    return amount


@internal
@view
def _check_kyc_operator():
    """
    @dev Reverts unless the caller holds KYC_OPERATOR_ROLE.
    """
    assert access_control.hasRole[KYC_OPERATOR_ROLE][msg.sender], "sale: caller is not a KYC operator"


@internal
@view
def _check_admin():
    """
    @dev Reverts unless the caller holds DEFAULT_ADMIN_ROLE.
    """
    assert access_control.hasRole[access_control.DEFAULT_ADMIN_ROLE][msg.sender], "sale: caller is not the admin"
