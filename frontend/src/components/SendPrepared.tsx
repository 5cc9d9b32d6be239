import { useCallback, useState } from "react";
import { explain } from "../errors";
import { shortHex } from "../format";
import { sendPrepared, type ApiTransaction } from "../transactions";
import { notReady, useApp } from "../wallet";

export interface Outcome {
  text: string;
  error: boolean;
}

/** An action (an API call, a transaction): busy while it runs, then its outcome in plain words, then `reload`. */
export function useAction(reload: () => unknown) {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const run = async (action: () => Promise<unknown>, done: string) => {
    setBusy(true);
    setOutcome(null); // the last answer is not this one's: no stale error while it runs
    try {
      await action();
      setOutcome({ text: done, error: false });
      await reload();
      return true;
    } catch (e) {
      setOutcome({ text: explain(e), error: true });
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, outcome, setOutcome, run };
}

const nothing = () => undefined;

/**
 * Runs `prepare` (an API call answering with transactions), sends each from the connected wallet
 * and waits for it. The outcome is in plain words: done, rejected in the wallet, refused by the API
 * or the contract (with its reason).
 */
export function useSendPrepared() {
  const app = useApp();
  const { publicClient, walletClient, address } = app;
  const waiting = notReady(app);
  const { busy, outcome, setOutcome, run } = useAction(nothing);
  const send = useCallback(
    async (prepare: () => Promise<ApiTransaction[]>, label: string, done: string): Promise<boolean> => {
      if (!publicClient || !walletClient || !address) {
        setOutcome({ text: waiting ?? "Connect your wallet first (the button at the top of the page).", error: true });
        return false;
      }
      return run(async () => {
        setOutcome({ text: "Preparing the transaction…", error: false });
        for (const tx of await prepare()) {
          setOutcome({ text: "Confirm the transaction in your wallet…", error: false });
          await sendPrepared(publicClient, walletClient, address, tx, label, (hash) =>
            setOutcome({ text: `Sent (${shortHex(hash, 6)}), waiting for a block…`, error: false }));
        }
      }, done);
    },
    [publicClient, walletClient, address, waiting, run, setOutcome],
  );
  return { send, busy, outcome };
}

/** The outcome of the last action, announced to screen readers. */
export function OutcomeLine({ outcome }: { outcome: Outcome | null }) {
  if (!outcome) return null;
  return outcome.error
    ? <p role="alert" className="error">{outcome.text}</p>
    : <p role="status" className="ok">{outcome.text}</p>;
}
