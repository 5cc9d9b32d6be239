import { useEffect, useState } from "react";
import { api } from "../api";
import { explain } from "../errors";
import { shortHex } from "../format";
import type { Licence } from "../market";
import { pendingTransactions, removePending, type PendingTransaction } from "../pending";
import { reportSubmitted, revertReasonOf } from "../registration";
import { replayReason, waitIndexed } from "../transactions";
import { useApp } from "../wallet";

type State = { text: string; error?: boolean };
type Kind = "market" | "other";

const ofKind = (kind: Kind) => pendingTransactions().filter((t) => (kind === "market") === Boolean(t.market));

/** Whether the backend shows what a final transaction did (its indexer reads final blocks only). */
async function shown(tx: PendingTransaction, from: string): Promise<boolean> {
  if (tx.market) {
    const step = tx.market;
    if (step.step === "approve") return true;
    if (step.step === "buy") {
      const { licences } = await api(`/api/v1/licences?licensee=${from}&per_page=100`);
      return (licences as Licence[]).some((l) => l.tx_hash.toLowerCase() === tx.hash.toLowerCase());
    }
    const licence: Licence = await api(`/api/v1/licences/${step.licenceId}`);
    return licence.escrow.status === (step.step === "dispute" ? "disputed" : "released");
  }
  const images = await Promise.all(tx.imageIds.map((id) => api(`/api/v1/images/${id}`)));
  return images.every((i) => i.status === "registered" || i.status === "conflict");
}

/**
 * Transactions sent from this browser and not final yet, of one kind: the buyer's licence market
 * steps (buy, dispute, release), or the others (registrations, and transactions with a label).
 * They survive a reload; each is followed to its receipt (a revert says the contract's reason),
 * then until the backend shows its effect, when `onChange` reloads the page's data.
 */
export function PendingList({ kind = "other", onChange }: { kind?: Kind; onChange(): void }) {
  const { publicClient } = useApp();
  const [pending, setPending] = useState<PendingTransaction[]>(ofKind(kind));
  const [states, setStates] = useState<Record<string, State>>({});

  useEffect(() => {
    const refresh = () => setPending(ofKind(kind));
    window.addEventListener("copytrack-pending", refresh);
    return () => window.removeEventListener("copytrack-pending", refresh);
  }, [kind]);

  useEffect(() => {
    if (!publicClient) return;
    let stopped = false;
    const show = (hash: string, state: State) => !stopped && setStates((all) => ({ ...all, [hash]: state }));
    const follow = async (tx: PendingTransaction) => {
      try {
        if (!tx.reported) await reportSubmitted(tx.hash, tx.imageIds);
        show(tx.hash, { text: "sent, waiting for a block" });
        const receipt = await publicClient.waitForTransactionReceipt({ hash: tx.hash, pollingInterval: 1000 });
        const registration = tx.imageIds.length > 0;
        if (receipt.status === "reverted") {
          const reason = await (registration ? revertReasonOf : replayReason)(publicClient, tx.hash, receipt.blockNumber)
            .catch(() => null);
          show(tx.hash, {
            text: `the transaction was reverted${reason ? `; the contract refused it: ${reason}` : ""}. ${registration ? "Nothing was registered" : "Nothing was changed"}.`,
            error: true,
          });
          return;
        }
        show(tx.hash, { text: `in block ${receipt.blockNumber}, waiting until it is final` });
        if (!registration) await waitIndexed(receipt.blockNumber); // its effect is read from the indexer
        while (!stopped) {
          if (await shown(tx, receipt.from)) {
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
  const heading = `pending-${kind}-h`;
  return (
    <section className="card" aria-labelledby={heading}>
      <h2 id={heading}>Pending transactions</h2>
      <ul>
        {pending.map((tx) => (
          <li key={tx.hash}>
            <span className="mono" title={tx.hash}>{shortHex(tx.hash, 8)}</span>: {tx.market?.label ?? tx.label ?? `${tx.imageIds.length} image(s)`},{" "}
            <span className={states[tx.hash]?.error ? "error" : ""}>{states[tx.hash]?.text ?? "checking…"}</span>
            {states[tx.hash]?.error && <button className="secondary" onClick={() => removePending(tx.hash)}>Dismiss</button>}
          </li>
        ))}
      </ul>
    </section>
  );
}
