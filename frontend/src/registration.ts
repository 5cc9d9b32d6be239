// Registering uploaded images from the user's own wallet: their own transactions (many images in
// one `register_batch`), or gasless (they sign an EIP-712 message, the platform's relayer pays).
import { CopyrightRegister } from "virtual:abis";
import { decodeFunctionData, type Abi, type PublicClient, type WalletClient } from "viem";
import { api, post } from "./api";
import { revertReason } from "./errors";
import { addPending, updatePending } from "./pending";

export const MAX_BATCH = 100; // the register's largest batch

interface RegistrationRequest {
  contract: `0x${string}`;
  transaction: { data: `0x${string}` };
  typed_data: { domain: Record<string, unknown>; types: Record<string, { name: string; type: string }[]>; primaryType: string; message: Record<string, unknown> };
}

const request = (imageId: number): Promise<RegistrationRequest> => api(`/api/v1/images/${imageId}/registration`);

/** Tell the backend which transaction registers these images (also after a reload). */
export async function reportSubmitted(hash: `0x${string}`, imageIds: number[]): Promise<void> {
  for (const id of imageIds) await post(`/api/v1/images/${id}/submitted`, { tx_hash: hash });
  updatePending(hash, { reported: true });
}

/**
 * One transaction per MAX_BATCH images. The API hands out each image's `register` call; its item
 * is decoded with the contract's ABI and the items are sent together through `register_batch`.
 * Each transaction is simulated first, so a refusal shows the contract's reason before any gas is spent.
 */
export async function registerOwn(
  publicClient: PublicClient, walletClient: WalletClient, account: `0x${string}`, imageIds: number[],
  onSent: (hash: `0x${string}`, ids: number[]) => void,
): Promise<void> {
  for (let start = 0; start < imageIds.length; start += MAX_BATCH) {
    const ids = imageIds.slice(start, start + MAX_BATCH);
    const requests = await Promise.all(ids.map(request));
    const items = requests.map((r) => decodeFunctionData({ abi: CopyrightRegister, data: r.transaction.data }).args![0]);
    const call = ids.length === 1
      ? { functionName: "register", args: [items[0]] }
      : { functionName: "register_batch", args: [items] };
    const { request: tx } = await publicClient.simulateContract({
      address: requests[0].contract, abi: CopyrightRegister, account, ...call,
    });
    const hash = await walletClient.writeContract({ ...tx, account, chain: walletClient.chain });
    addPending({ hash, imageIds: ids, sentAt: Date.now(), reported: false });
    onSent(hash, ids);
    await reportSubmitted(hash, ids);
  }
}

/**
 * Why a mined transaction reverted: the same call replayed on the state its block left behind
 * (where whatever made it fail, such as someone else's registration, is visible).
 */
export async function revertReasonOf(
  publicClient: PublicClient, hash: `0x${string}`, blockNumber: bigint, abi: Abi = CopyrightRegister,
): Promise<string | null> {
  const tx = await publicClient.getTransaction({ hash });
  const { functionName, args } = decodeFunctionData({ abi, data: tx.input });
  try {
    await publicClient.simulateContract({ address: tx.to!, abi, functionName, args, account: tx.from, value: tx.value, blockNumber });
  } catch (error) {
    return revertReason(error);
  }
  return null;
}

/** Signs EIP-712 typed data exactly as the API handed it out (its integers as numbers or decimal strings). */
export async function signTyped(walletClient: WalletClient, account: `0x${string}`, typed: RegistrationRequest["typed_data"]) {
  const { EIP712Domain: _, ...types } = typed.types;
  const domain = { ...typed.domain, chainId: BigInt(typed.domain.chainId as number) };
  return walletClient.signTypedData({ account, domain, types, primaryType: typed.primaryType, message: integersAsBigInt(typed) });
}

/** EIP-712 integers as BigInt, whether the API sent them as numbers or as decimal strings. */
function integersAsBigInt(typed: RegistrationRequest["typed_data"]): Record<string, unknown> {
  const fields = typed.types[typed.primaryType];
  return Object.fromEntries(
    Object.entries(typed.message).map(([name, value]) => {
      const type = fields.find((f) => f.name === name)?.type ?? "";
      return [name, /^u?int\d*$/.test(type) ? BigInt(value as string | number | bigint) : value];
    }),
  );
}

/** Gasless: sign each image's EIP-712 `Reveal`; the relayer commits and reveals it for the owner. */
export async function registerGasless(walletClient: WalletClient, account: `0x${string}`, imageId: number): Promise<void> {
  const { typed_data: typed } = await request(imageId);
  const signature = await signTyped(walletClient, account, typed);
  // The deadline goes back exactly as the API sent it (a number today, a decimal string after the API's fix).
  await post(`/api/v1/images/${imageId}/relay`, { signature, deadline: typed.message.deadline, salt: typed.message.salt });
}
