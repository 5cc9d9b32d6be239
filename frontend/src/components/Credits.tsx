import { api, post } from "../api";
import { useLoaded } from "../loading";
import { price } from "../market";
import type { ApiTransaction } from "../transactions";
import { useApp } from "../wallet";
import { OutcomeLine, useSendPrepared } from "./SendPrepared";

type Source = "market" | "settlement";
type Asset = "ETH" | "CPY";
type Held = Record<Source, Record<Asset, string>>;

const FROM: Record<Source, string> = { market: "the licence market", settlement: "the settlement escrow" };

/**
 * What the contracts hold for the connected account (`GET /api/v1/credits/{address}`): the
 * market's (sales released, refunds) and the settlement escrow's (shares of case payments), each
 * with a Withdraw button that is enabled only when there is something to withdraw.
 */
export function Credits({ sources, why }: { sources: Source[]; why: string }) {
  const { address } = useApp();
  const { value: held, error, reload: load } = useLoaded<Held>(() => (address ? api(`/api/v1/credits/${address}`) : null), [address]);
  const { send, busy, outcome } = useSendPrepared();
  const withdraw = (source: Source, asset: Asset) =>
    send(async () => (await post(`/api/v1/${source}/withdraw`, { account: address, asset })).transactions as ApiTransaction[],
      `withdraw your ${asset} from ${FROM[source]}`, `Withdrawn: the ${asset} is in your wallet.`).then(load);
  return (
    <div className="card stack" aria-labelledby="credits-h">
      <h2 id="credits-h">Credits</h2>
      <p className="small">{why}</p>
      {error && <p role="alert" className="error">{error}</p>}
      {!held && !error && <p role="status">{address ? "Reading your credits…" : "Connect your wallet to see your credits."}</p>}
      {held && sources.map((source) => (
        <div key={source}>
          <h3 className="small">In {FROM[source]}</h3>
          <ul className="actions" aria-label={`Credits in ${FROM[source]}`}>
            {(["ETH", "CPY"] as Asset[]).map((asset) => {
              const amount = held[source][asset];
              const nothing = amount === "0";
              return (
                <li key={asset} className="inline">
                  <span data-testid={`credit-${source}-${asset}`}>{price(amount, asset)}</span>
                  <button onClick={() => withdraw(source, asset)} disabled={busy || nothing}
                    title={nothing ? `Nothing to withdraw in ${asset}` : undefined}>
                    {nothing ? `Nothing to withdraw in ${asset}` : `Withdraw ${asset}`}
                  </button>
                </li>
              );
            })}
          </ul>
        </div>
      ))}
      <OutcomeLine outcome={outcome} />
    </div>
  );
}
