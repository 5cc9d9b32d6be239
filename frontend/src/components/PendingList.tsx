import { useEffect, useState } from "react";
import { api } from "../api";
import { explain } from "../errors";
import { shortHex } from "../format";
import { pendingTransactions, removePending, type PendingTransaction } from "../pending";
import { reportSubmitted, revertReasonOf } from "../registration";
import { replayReason, waitIndexed } from "../transactions";
import { useApp } from "../wallet";

type State = { text: string; error?: boolean };

// The buyer's market transactions have their own list (MarketPending), which follows them until the indexer shows their effect.
const ours = () => pendingTransactions().filter((t) => !t.market);

/** Transactions sent from this browser (registrations, and others with a label) and not final yet; they survive a reload. */
export function PendingList({ onChange }: { onChange(): void }) {
  const { publicClient } = useApp();
  const [pending, setPending] = useState<PendingTransaction[]>(ours());
  const [states, setStates] = useState<Record<string, State>>({});

  useEffect(() => {
    const refresh = () => setPending(ours());
    window.addEventListener("copytrack-pending", refresh);
    return () => window.removeEventListener("copytrack-pending", refresh);
  }, []);

  useEffect(() => {
    if (!publicClient) return;
    let stopped = false;
    const show = (hash: string, state: State) => !stopped && setStates((all) => ({ ...all, [hash]: state }));
    const follow = async (tx: PendingTransaction) => {
      try {
        if (!tx.reported) await reportSubmitted(tx.hash, tx.imageIds);
        show(tx.hash, { text: "sent, waiting for a block" });
        const receipt = await publicClient.waitForTransactionReceipt({ hash: tx.hash, pollingInterval: 1000 });
        if (receipt.status === "reverted") {
          const reason = await (tx.label ? replayReason : revertReasonOf)(publicClient, tx.hash, receipt.blockNumber);
          show(tx.hash, {
            text: `the transaction was reverted${reason ? `; the contract refused it: ${reason}` : ""}. ${tx.label ? "Nothing was changed" : "Nothing was registered"}.`,
            error: true,
          });
          return;
        }
        show(tx.hash, { text: `in block ${receipt.blockNumber}, waiting for confirmations` });
        if (tx.label) await waitIndexed(receipt.blockNumber); // its effect is read from the indexer
        while (!stopped) {
          const images = await Promise.all(tx.imageIds.map((id) => api(`/api/v1/images/${id}`)));
          if (images.every((i) => i.status === "registered" || i.status === "conflict")) {
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
    <section className="card" aria-labelledby="pending-h">
      <h2 id="pending-h">Pending transactions</h2>
      <ul>
        {pending.map((tx) => (
          <li key={tx.hash}>
            <span className="mono" title={tx.hash}>{shortHex(tx.hash, 8)}</span>: {tx.label ?? `${tx.imageIds.length} image(s)`},{" "}
            <span className={states[tx.hash]?.error ? "error" : ""}>{states[tx.hash]?.text ?? "checking…"}</span>
            {states[tx.hash]?.error && <button className="secondary" onClick={() => removePending(tx.hash)}>Dismiss</button>}
          </li>
        ))}
      </ul>
    </section>
  );
}
