import { CPYSale, CPYToken } from "virtual:abis";
import { useEffect, useState } from "react";
import { amount, duration, utc } from "../format";
import { explain } from "../errors";
import { useApp } from "../wallet";

interface SaleState {
  raised: bigint;
  sold: bigint;
  cap: bigint;
  softCap: bigint;
  rate: bigint;
  next: { rate: bigint; from: bigint } | null;
  opening: number;
  closing: number;
  now: number;
  open: boolean;
  finalized: boolean;
  minimum: bigint;
  maximum: bigint;
  decimals: number;
  symbol: string;
  mine: { allowListed: boolean; contributed: bigint; owed: bigint } | null;
}

/** The next tranche after the current one: its rate and the tokens sold from which it applies. */
function nextTranche(sold: bigint, limits: bigint[], rates: bigint[], base: bigint) {
  const current = limits.findIndex((limit) => sold < limit);
  if (current === -1) return null;
  return { rate: current + 1 < rates.length ? rates[current + 1] : base, from: limits[current] };
}

/** Investors: the sale's state, read from the chain with viem (no backend involved). */
export function Sale() {
  const { status, statusError, publicClient, address } = useApp();
  const [sale, setSale] = useState<SaleState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [clock, setClock] = useState(() => Math.floor(Date.now() / 1000));
  const saleAddress = status?.contracts?.CPYSale;
  const tokenAddress = status?.contracts?.CPYToken;

  useEffect(() => {
    if (!publicClient || !saleAddress || !tokenAddress) return;
    let stopped = false;
    const read = async () => {
      const sale = (functionName: string, args: unknown[] = []) =>
        publicClient.readContract({ address: saleAddress, abi: CPYSale, functionName, args }) as Promise<any>;
      const token = (functionName: string) =>
        publicClient.readContract({ address: tokenAddress, abi: CPYToken, functionName }) as Promise<any>;
      const [raised, sold, cap, softCap, rate, base, count, opening, closing, open, finalized, minimum, maximum, decimals, symbol, block] =
        await Promise.all([
          sale("wei_raised"), sale("tokens_sold"), sale("hard_cap"), sale("soft_cap"), sale("rate"), sale("base_rate"),
          sale("tranche_count"), sale("opening_time"), sale("closing_time"), sale("is_open"), sale("finalized"),
          sale("min_contribution"), sale("max_contribution"), token("decimals"), token("symbol"), publicClient.getBlock(),
        ]);
      const indices = Array.from({ length: Number(count) }, (_, i) => BigInt(i));
      const limits: bigint[] = await Promise.all(indices.map((i) => sale("tranche_limits", [i])));
      const rates: bigint[] = await Promise.all(indices.map((i) => sale("tranche_rates", [i])));
      const mine = address
        ? { allowListed: await sale("is_allow_listed", [address]), contributed: await sale("contribution_of", [address]), owed: await sale("tokens_owed", [address]) }
        : null;
      if (stopped) return;
      setSale({
        raised, sold, cap, softCap, rate, next: nextTranche(sold, limits, rates, base), opening: Number(opening),
        closing: Number(closing), now: Number(block.timestamp), open, finalized, minimum, maximum,
        decimals: Number(decimals), symbol, mine,
      });
      setClock(Math.floor(Date.now() / 1000));
      setError(null);
    };
    const tick = () => read().catch((e) => !stopped && setError(explain(e)));
    tick();
    const timer = setInterval(tick, 10000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [publicClient, saleAddress, tokenAddress, address]);

  // The countdown runs on the chain's clock, advanced by the browser's between reads.
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), 1000);
    return () => clearInterval(timer);
  }, []);

  const unreachable = statusError ?? status?.chain.error ?? (status && !status.chain.rpc_url ? "This server names no public chain RPC; connect a wallet to read the sale." : null);
  if (!sale) {
    return (
      <section>
        <h1>CPY token sale</h1>
        {error || unreachable ? <p role="alert" className="error">{error ?? unreachable}</p> : <p role="status">Reading the sale from the chain…</p>}
      </section>
    );
  }
  const now = sale.now + (Math.floor(Date.now() / 1000) - clock);
  const percent = Number((sale.sold * 10000n) / sale.cap) / 100;
  const eth = (wei: bigint) => amount(wei, 18, "ETH");
  const cpy = (units: bigint) => amount(units, sale.decimals, sale.symbol);
  const phase = sale.finalized ? "finalized" : now < sale.opening ? "not open yet" : sale.open ? "open" : "closed";
  return (
    <section>
      <h1>CPY token sale</h1>
      <p>Read live from the sale contract at <span className="mono wrap">{saleAddress}</span>.</p>
      {error && <p role="alert" className="error">{error}</p>}
      <div className="card">
        <p className="phase">The sale is <strong>{phase}</strong>.</p>
        <div className="bar" role="progressbar" aria-label="Tokens sold against the hard cap" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} aria-valuetext={`${percent}% sold`}>
          <div style={{ width: `${percent}%` }} />
        </div>
        <p><strong>{cpy(sale.sold)}</strong> sold of {cpy(sale.cap)} ({percent}%)</p>
        <dl className="facts">
          <dt>Raised</dt><dd data-testid="raised">{eth(sale.raised)}</dd>
          <dt>Soft cap</dt><dd>{sale.softCap === 0n ? "none" : eth(sale.softCap)}</dd>
          <dt>Price now</dt><dd data-testid="rate">{sale.rate.toLocaleString("en-US")} {sale.symbol} per ETH</dd>
          <dt>Next tranche</dt>
          <dd>{sale.next ? `${sale.next.rate.toLocaleString("en-US")} ${sale.symbol} per ETH once ${cpy(sale.next.from)} are sold` : "none: this is the final price"}</dd>
          <dt>{now < sale.opening ? "Opens" : "Time left"}</dt>
          <dd data-testid="time-left">{now < sale.opening ? utc(sale.opening) : `${duration(sale.closing - now)} (closes ${utc(sale.closing)})`}</dd>
          <dt>Per purchase</dt><dd>at least {eth(sale.minimum)}; at most {eth(sale.maximum)} per investor in total</dd>
        </dl>
      </div>
      <div className="card">
        <h2>You</h2>
        {sale.mine ? (
          <dl className="facts">
            <dt>Allow-list</dt><dd>{sale.mine.allowListed ? "you are on the allow-list" : "not on the allow-list (KYC needed before you can buy)"}</dd>
            <dt>Contributed</dt><dd>{eth(sale.mine.contributed)}</dd>
            <dt>Tokens owed</dt><dd>{cpy(sale.mine.owed)} (claimable after the sale is finalized)</dd>
          </dl>
        ) : (
          <p className="muted">Connect your wallet to see your allow-list status and contributions.</p>
        )}
      </div>
    </section>
  );
}
