// Sending a transaction the API prepared (the API never holds a key: it answers with `to`, `data`
// and `value`, and the user's wallet signs). Each is kept as pending until its receipt, so a
// reload shows it again (components/PendingList.tsx).
import { BaseError, decodeErrorResult, type Hex, type PublicClient, type WalletClient } from "viem";
import { api } from "./api";
import { addPending, removePending, type PendingTransaction } from "./pending";

export interface ApiTransaction {
  to: `0x${string}`;
  data: Hex;
  value: string; // wei as a decimal string
  chainId: number | string;
}

/** Why a mined transaction reverted: the same call replayed on the state its block left behind. */
export async function replayReason(publicClient: PublicClient, hash: Hex, blockNumber: bigint): Promise<string | null> {
  const tx = await publicClient.getTransaction({ hash });
  try {
    await publicClient.call({ account: tx.from, to: tx.to!, data: tx.input, value: tx.value, blockNumber });
  } catch (error) {
    const raw = error instanceof BaseError ? (error.walk((e) => typeof (e as { data?: unknown }).data === "string") as { data?: Hex } | null)?.data : undefined;
    if (!raw) return null;
    const decoded = decodeErrorResult({ abi: [], data: raw });
    return typeof decoded.args?.[0] === "string" ? decoded.args[0].replace(/^[a-z_]+: /, "") : null;
  }
  return null;
}

/**
 * Waits (up to a minute) until the backend's chain indexer has read the block `blockNumber`: what
 * the API answers about escrows, cases and payments comes from the indexer, which reads a block
 * only once it is final, so a page reloaded at the receipt would still show the state before it.
 */
export async function waitIndexed(blockNumber: bigint): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const status = await api("/api/v1/status");
    if (status.indexer_cursor !== undefined && BigInt(status.indexer_cursor) >= blockNumber) return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/**
 * Signs and sends `tx` from `account`, then waits for its receipt. `label` says what it does in
 * the pending list. Throws with the contract's reason if it reverted; returns once the backend has
 * indexed its block.
 */
export async function sendPrepared(
  publicClient: PublicClient, walletClient: WalletClient, account: `0x${string}`, tx: ApiTransaction, label: string,
  onSent?: (hash: Hex) => void,
): Promise<Hex> {
  const hash = await sendTracked(walletClient, account, tx, { label });
  onSent?.(hash);
  const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 1000 });
  removePending(hash);
  if (receipt.status === "reverted") {
    const reason = await replayReason(publicClient, hash, receipt.blockNumber);
    throw new Error(`The transaction was reverted${reason ? `: the contract refused it (${reason})` : ""}. Nothing was changed on the chain.`);
  }
  await waitIndexed(receipt.blockNumber);
  return hash;
}

/**
 * Checks that the wallet is on the transaction's chain, has it sign and send `tx`, and keeps it in
 * the pending list (which survives a reload) with what `pending` says it is. Returns its hash at
 * once; `components/PendingList.tsx` follows it from there.
 */
export async function sendTracked(
  walletClient: WalletClient, account: `0x${string}`, tx: ApiTransaction,
  pending: Pick<PendingTransaction, "label" | "market">,
): Promise<Hex> {
  const walletChain = await walletClient.getChainId();
  if (walletChain !== Number(tx.chainId)) {
    throw new Error(`Your wallet is on chain ${walletChain}, but this transaction is for chain ${tx.chainId}. Switch the network with the button at the top, then try again.`);
  }
  const hash = await walletClient.sendTransaction({
    account, chain: walletClient.chain, to: tx.to, data: tx.data, value: BigInt(tx.value),
  });
  addPending({ hash, imageIds: [], sentAt: Date.now(), reported: true, ...pending });
  return hash;
}
