// Errors in words a person can act on: a rejected request, a contract's revert reason, the API's message.
import { BaseError, ContractFunctionRevertedError, UserRejectedRequestError } from "viem";
import { ApiError } from "./api";

export const REJECTED = "You rejected the request in your wallet, so nothing was signed or sent. Try again when you are ready.";

export function isRejection(error: unknown): boolean {
  if (error instanceof BaseError && error.walk((e) => e instanceof UserRejectedRequestError)) return true;
  return (error as { code?: number })?.code === 4001;
}

/** The revert reason without the contract's module prefix ("register: already registered" → "already registered"). */
export function revertReason(error: unknown): string | null {
  if (!(error instanceof BaseError)) return null;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null;
  const reason = reverted?.reason ?? reverted?.data?.args?.[0];
  return typeof reason === "string" ? reason.replace(/^[a-z_]+: /, "") : null;
}

export function explain(error: unknown): string {
  if (isRejection(error)) return REJECTED;
  const reason = revertReason(error);
  if (reason) return `The contract refused this transaction: ${reason}. Nothing was changed on the chain.`;
  if (error instanceof ApiError) return error.message;
  if (error instanceof BaseError) return error.shortMessage;
  return error instanceof Error ? error.message : String(error);
}
