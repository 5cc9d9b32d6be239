import { LicenseMarket } from "virtual:abis";
import { useEffect, useState } from "react";
import { api } from "../api";
import { explain } from "../errors";
import { shortHex } from "../format";
import type { Licence } from "../market";
import { pendingTransactions, removePending, type PendingTransaction } from "../pending";
import { revertReasonOf } from "../registration";
import { useApp } from "../wallet";

type State = { text: string; error?: boolean };

const marketTransactions = () => pendingTransactions().filter((t) => t.market);

/** Whether the indexer shows what the transaction did (it records final blocks only, a little late). */
async function indexed(tx: PendingTransaction, from: string): Promise<boolean> {
  const step = tx.market!;
  if (step.step === "approve") return true;
  if (step.step === "buy") {
    const { licences } = await api(`/api/v1/licences?licensee=${from}&per_page=100`);
    return (licences as Licence[]).some((l) => l.tx_hash.toLowerCase() === tx.hash.toLowerCase());
  }
  const licence: Licence = await api(`/api/v1/licences/${step.licenceId}`);
  return licence.escrow.status === (step.step === "dispute" ? "disputed" : "released");
}

/** Market transactions sent from this browser and not final yet; they survive a reload. */
export function MarketPending({ onChange }: { onChange(): void }) {
  const { publicClient } = useApp();
  const [pending, setPending] = useState<PendingTransaction[]>(marketTransactions());
  const [states, setStates] = useState<Record<string, State>>({});

  useEffect(() => {
    const refresh = () => setPending(marketTransactions());
    window.addEventListener("copytrack-pending", refresh);
    return () => window.removeEventListener("copytrack-pending", refresh);
  }, []);

  useEffect(() => {
    if (!publicClient) return;
    let stopped = false;
    const show = (hash: string, state: State) => !stopped && setStates((all) => ({ ...all, [hash]: state }));
    const follow = async (tx: PendingTransaction) => {
      try {
        show(tx.hash, { text: "sent, waiting for a block" });
        const receipt = await publicClient.waitForTransactionReceipt({ hash: tx.hash, pollingInterval: 1000 });
        if (receipt.status === "reverted") {
          const reason = await revertReasonOf(publicClient, tx.hash, receipt.blockNumber, LicenseMarket).catch(() => null);
          show(tx.hash, {
            text: `the transaction was reverted${reason ? `; the contract refused it: ${reason}` : ""}. Nothing was changed.`,
            error: true,
          });
          return;
        }
        show(tx.hash, { text: `in block ${receipt.blockNumber}, waiting until it is final` });
        while (!stopped) {
          if (await indexed(tx, receipt.from)) {
            removePending(tx.hash);
            onChange();
            return;
          }
          await new Promise((r) => setTimeout(r, 1500));
        }
      } catch (e) {
        show(tx.hash, { text: explain(e), error: true });
      }
    };
    pending.forEach(follow);
    return () => {
      stopped = true;
    };
  }, [pending, publicClient, onChange]);

  if (pending.length === 0) return null;
  return (
    <section className="card" aria-labelledby="market-pending-h">
      <h2 id="market-pending-h">Pending transactions</h2>
      <ul>
        {pending.map((tx) => (
          <li key={tx.hash}>
            {tx.market!.label} (<span className="mono" title={tx.hash}>{shortHex(tx.hash, 8)}</span>):{" "}
            <span className={states[tx.hash]?.error ? "error" : ""}>{states[tx.hash]?.text ?? "checking…"}</span>
            {states[tx.hash]?.error && <button className="secondary" onClick={() => removePending(tx.hash)}>Dismiss</button>}
          </li>
        ))}
      </ul>
    </section>
  );
}
