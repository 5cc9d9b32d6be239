// Transactions sent but not yet final, kept in localStorage so that a reload shows and finishes them.
export interface PendingTransaction {
  hash: `0x${string}`;
  imageIds: number[];
  sentAt: number;
  reported: boolean; // the backend was told (POST /images/{id}/submitted)
  label?: string; // what a transaction other than a registration does ("contribute 1 ETH to the sale")
  market?: MarketStep; // a licence market transaction (buy, dispute, ...); absent for registrations
}

/** A market transaction the buyer's pages follow until the indexer shows its effect. */
export interface MarketStep {
  step: "approve" | "buy" | "dispute" | "release";
  label: string; // what it does, in words ("buy the standard licence for Matterhorn")
  licenceId?: number; // dispute and release: the licence they change
}

const KEY = "copytrack.pending";

export function pendingTransactions(): PendingTransaction[] {
  return JSON.parse(localStorage.getItem(KEY) ?? "[]");
}

function save(list: PendingTransaction[]): void {
  localStorage.setItem(KEY, JSON.stringify(list));
  window.dispatchEvent(new Event("copytrack-pending"));
}

export function addPending(tx: PendingTransaction): void {
  save([...pendingTransactions().filter((t) => t.hash !== tx.hash), tx]);
}

export function updatePending(hash: string, change: Partial<PendingTransaction>): void {
  save(pendingTransactions().map((t) => (t.hash === hash ? { ...t, ...change } : t)));
}

export function removePending(hash: string): void {
  save(pendingTransactions().filter((t) => t.hash !== hash));
}
