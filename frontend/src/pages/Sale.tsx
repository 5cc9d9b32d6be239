import { useCallback, useEffect, useState } from "react";
import { api, post } from "../api";
import { PendingList } from "../components/PendingList";
import { OutcomeLine, useSendPrepared } from "../components/SendPrepared";
import { VestingChart, type Vesting } from "../components/VestingChart";
import { explain } from "../errors";
import { amount, duration, utc } from "../format";
import type { ApiTransaction } from "../transactions";
import { useApp } from "../wallet";

/** GET /api/v1/sale: every integer a decimal string. */
interface SaleStatus {
  address: string;
  token_symbol: string;
  token_decimals: number;
  rate: string;
  base_rate: string;
  tranche: number;
  tranches: { until_sold: string; rate: string }[];
  next_boundary: string | null;
  hard_cap: string;
  soft_cap: string;
  soft_cap_reached: boolean;
  tokens_sold: string;
  wei_raised: string;
  min_contribution: string;
  max_contribution: string;
  opening_time: string;
  closing_time: string;
  open: boolean;
  paused: boolean;
  finalized: boolean;
  burned: string;
  chain_time: string;
  vesting: Vesting[];
}

/** GET /api/v1/sale/investors/{address}. */
interface Investor {
  allow_listed: boolean;
  allow_listed_by: "direct" | "merkle" | "removed" | null;
  contributed: string;
  tokens_owed: string;
  remaining_allowance: string;
  min_contribution: string;
  claimable: string;
  refundable: string;
}

const ALLOW_LIST: Record<string, string> = {
  direct: "you are on the allow-list",
  merkle: "you are on the allow-list (the operator's Merkle list; the API adds your proof where it is needed)",
  removed: "you were removed from the allow-list; ask the sale's operator why",
};

const eth = (wei: string | bigint) => amount(BigInt(wei), 18, "ETH");
const transactions = (answer: { transactions: ApiTransaction[] }) => answer.transactions;

/** Investors: the sale's state, my allow-list standing and limits, contribute, claim or refund, the vesting schedules. */
export function Sale() {
  const { address } = useApp();
  const [sale, setSale] = useState<SaleStatus | null>(null);
  const [mine, setMine] = useState<Investor | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [clock, setClock] = useState(() => Math.floor(Date.now() / 1000));
  const [contribution, setContribution] = useState("");
  const { send, busy, outcome } = useSendPrepared();

  const refresh = useCallback(async () => {
    try {
      const [status, investor] = await Promise.all([
        api("/api/v1/sale") as Promise<SaleStatus>,
        address ? (api(`/api/v1/sale/investors/${address}`) as Promise<Investor>) : Promise.resolve(null),
      ]);
      setSale(status);
      setMine(investor);
      setClock(Math.floor(Date.now() / 1000));
      setError(null);
    } catch (e) {
      setError(explain(e));
    }
  }, [address]);

  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, 10000);
    return () => clearInterval(timer);
  }, [refresh]);

  // The countdown runs on the chain's clock, advanced by the browser's between reads.
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), 1000);
    return () => clearInterval(timer);
  }, []);

  if (!sale) {
    return (
      <section>
        <h1>CPY token sale</h1>
        {error ? <p role="alert" className="error">{error}</p> : <p role="status">Reading the sale…</p>}
      </section>
    );
  }
  const now = Number(sale.chain_time) + (Math.floor(Date.now() / 1000) - clock);
  const opening = Number(sale.opening_time), closing = Number(sale.closing_time);
  const sold = BigInt(sale.tokens_sold), cap = BigInt(sale.hard_cap);
  const percent = Number((sold * 10000n) / cap) / 100;
  const cpy = (units: string | bigint) => amount(BigInt(units), sale.token_decimals, sale.token_symbol);
  const perEth = (rate: string) => `${BigInt(rate).toLocaleString("en-US")} ${sale.token_symbol} per ETH`;
  const next = sale.next_boundary === null ? null
    : { rate: sale.tranches[sale.tranche + 1]?.rate ?? sale.base_rate, from: sale.next_boundary };
  const phase = sale.finalized ? "finalized" : sale.paused ? "paused" : now < opening ? "not open yet" : sale.open ? "open" : "closed";
  const missedSoftCap = sale.finalized && !sale.soft_cap_reached;

  const contribute = async (event: React.FormEvent) => {
    event.preventDefault();
    const ok = await send(() => post("/api/v1/sale/contribute", { investor: address, amount: contribution.trim() }).then(transactions),
      `contribute ${contribution.trim()} ETH to the sale`, `Contributed ${contribution.trim()} ETH. Your tokens are claimable once the sale is finalized.`);
    if (ok) setContribution("");
    refresh();
  };
  const claim = () => send(() => post("/api/v1/sale/claim", { investor: address }).then(transactions),
    "claim CPY from the sale", `Claimed ${cpy(mine!.claimable)}; they are in your wallet.`).then(refresh);
  const refund = () => send(() => post("/api/v1/sale/refund", { investor: address }).then(transactions),
    "withdraw the sale's refund", `Refunded ${eth(mine!.refundable)} to your wallet.`).then(refresh);

  const blocked = !mine ? null
    : sale.finalized ? "The sale is finalized; no more contributions."
    : sale.paused ? "The sale is paused by its operator; contributions resume when it is unpaused."
    : now < opening ? `The sale opens ${utc(opening)}.`
    : !sale.open ? "The sale has closed; it is finalized next, then you can claim."
    : !mine.allow_listed ? "Only allow-listed investors can contribute: complete the KYC check with the sale's operator first."
    : BigInt(mine.remaining_allowance) === 0n ? "You have contributed the maximum per investor."
    : null;

  return (
    <section>
      <h1>CPY token sale</h1>
      <p>The sale contract is at <span className="mono wrap">{sale.address}</span>; everything below is read from it.</p>
      {error && <p role="alert" className="error">{error}</p>}
      <div className="card">
        <p className="phase">The sale is <strong data-testid="phase">{phase}</strong>.</p>
        <div className="bar" role="progressbar" aria-label="Tokens sold against the hard cap" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} aria-valuetext={`${percent}% sold`}>
          <div style={{ width: `${percent}%` }} />
        </div>
        <p><strong>{cpy(sold)}</strong> sold of {cpy(cap)} ({percent}%)</p>
        <dl className="facts">
          <dt>Raised</dt><dd data-testid="raised">{eth(sale.wei_raised)}</dd>
          <dt>Soft cap</dt>
          <dd>{BigInt(sale.soft_cap) === 0n ? "none" : `${eth(sale.soft_cap)} (${sale.soft_cap_reached ? "reached" : "not reached yet"})`}</dd>
          <dt>Price now</dt><dd data-testid="rate">{perEth(sale.rate)}</dd>
          <dt>Next tranche</dt>
          <dd>{next ? `${perEth(next.rate)} once ${cpy(next.from)} are sold` : "none: this is the final price"}</dd>
          <dt>{now < opening ? "Opens" : "Time left"}</dt>
          <dd data-testid="time-left">{now < opening ? utc(opening) : `${duration(closing - now)} (closes ${utc(closing)})`}</dd>
          <dt>Per purchase</dt><dd>at least {eth(sale.min_contribution)}; at most {eth(sale.max_contribution)} per investor in total</dd>
          {sale.finalized && <><dt>Burned</dt><dd>{cpy(sale.burned)} unsold tokens burned at finalization</dd></>}
        </dl>
      </div>
      <div className="card">
        <h2>You</h2>
        {mine ? (
          <>
            <dl className="facts">
              <dt>Allow-list</dt>
              <dd data-testid="allow-list">{ALLOW_LIST[mine.allow_listed_by ?? ""] ?? "not on the allow-list (KYC needed before you can buy)"}</dd>
              <dt>Contributed</dt><dd data-testid="contributed">{eth(mine.contributed)}</dd>
              <dt>Allowance left</dt><dd data-testid="allowance">{eth(mine.remaining_allowance)} (at least {eth(mine.min_contribution)} per purchase)</dd>
              <dt>Tokens owed</dt>
              <dd data-testid="owed">
                {cpy(mine.tokens_owed)} {missedSoftCap ? "(the soft cap was missed: withdraw your ETH instead)"
                  : BigInt(mine.claimable) > 0n ? "(claimable now)" : sale.finalized ? "" : "(claimable after the sale is finalized)"}
              </dd>
              {BigInt(mine.refundable) > 0n && <><dt>Refundable</dt><dd data-testid="refundable">{eth(mine.refundable)}</dd></>}
            </dl>
            {blocked ? <p className="muted" data-testid="contribute-blocked">{blocked}</p> : (
              <form className="inline" onSubmit={contribute}>
                <label htmlFor="contribution">Amount in ETH</label>
                <input id="contribution" inputMode="decimal" autoComplete="off" placeholder={`e.g. ${Number(BigInt(sale.min_contribution)) / 1e18}`}
                  value={contribution} onChange={(e) => setContribution(e.target.value)} required />
                <button type="submit" disabled={busy || !contribution.trim()}>Contribute</button>
              </form>
            )}
            <div className="actions">
              {BigInt(mine.claimable) > 0n && <button onClick={claim} disabled={busy}>Claim {cpy(mine.claimable)}</button>}
              {BigInt(mine.refundable) > 0n && <button onClick={refund} disabled={busy}>Withdraw refund of {eth(mine.refundable)}</button>}
            </div>
            <OutcomeLine outcome={outcome} />
          </>
        ) : (
          <p className="muted">Connect your wallet to see your allow-list status and contributions, and to contribute.</p>
        )}
      </div>
      <PendingList onChange={refresh} />
      <div className="card">
        <h2>Vesting schedules</h2>
        <p>The business-development and founders' allocations are locked in vesting contracts: nothing before the cliff, then released linearly.</p>
        <VestingChart vesting={sale.vesting} now={now} decimals={sale.token_decimals} symbol={sale.token_symbol} />
      </div>
    </section>
  );
}
