// The licence market for buyers: offers and licences as the API serves them, and sending the
// transactions the API hands out (it checks each against the contract first, so a refusal comes
// back in words before the wallet is asked to sign anything).
import type { PublicClient, WalletClient } from "viem";
import { post } from "./api";
import { amount } from "./format";
import type { MarketStep } from "./pending";
import { sendTracked, type ApiTransaction } from "./transactions";

export interface Offer {
  hash: `0x${string}`;
  seller: string;
  buyer: string | null;
  registration_id: string;
  cid: string | null;
  title: string | null;
  collection: string | null;
  licence_type: string;
  countries: string[];
  duration: string;
  seats: number;
  domains: string[];
  currency: "ETH" | "CPY";
  price: string;
  max_sales: number;
  sold: number;
  expiry: string;
}

export interface Licence {
  id: number;
  registration_id: string;
  licensee: string;
  seller: string;
  offer_hash: string;
  licence_type: string;
  countries: string[];
  seats: number;
  starts_at: string;
  ends_at: string | null;
  domain_hashes: string[];
  currency: "ETH" | "CPY";
  price: string;
  fee: string;
  escrow: { status: "held" | "disputed" | "frozen" | "released" | "refunded"; release_at: string; dispute_reason: string | null };
  revoked: boolean;
  revocation_reason: string | null;
  tx_hash: `0x${string}`;
  block_number: number;
}

export interface Certificate {
  licence: Licence;
  image: { registration_id: string; title: string | null; cid: string | null; registered_at: number | null; owner: string | null };
  verify_url: string;
  valid: boolean;
}

export interface TransactionStep extends ApiTransaction {
  step: MarketStep["step"];
}

export const DECIMALS = 18; // ETH and CPY both keep 18 decimals
export const price = (units: string, currency: string) => amount(BigInt(units), DECIMALS, currency);

export const LICENCE_TYPES: Record<string, string> = {
  standard: "Standard",
  extended: "Extended",
  editorial: "Editorial",
  exclusive: "Exclusive",
};

export function territory(countries: string[]): string {
  return countries.length ? countries.join(", ") : "worldwide";
}

export function term(durationSeconds: string | number): string {
  const seconds = Number(durationSeconds);
  if (seconds === 0) return "perpetual";
  const days = seconds / 86400;
  return Number.isInteger(days) ? `${days} days` : `${seconds} seconds`;
}

/** Host names from what a person typed: commas, spaces or new lines between them. */
export const domainList = (text: string) => text.split(/[\s,]+/).filter(Boolean);

/**
 * Send one step the API handed out from the buyer's wallet and keep it in the pending list (which
 * survives a reload) until the indexer shows its effect. Returns the transaction hash.
 */
export const sendStep = (
  walletClient: WalletClient, account: `0x${string}`, step: TransactionStep, what: Omit<MarketStep, "step">,
): Promise<`0x${string}`> => sendTracked(walletClient, account, step, { market: { step: step.step, ...what } });

/**
 * Buy a licence: a CPY offer whose allowance is short first gets the ERC-20 `approve` mined, then
 * the API is asked again, so the `buy` it hands out has been checked against the contract too.
 */
export async function buyOffer(
  publicClient: PublicClient, walletClient: WalletClient, account: `0x${string}`, offer: Offer, domains: string[],
  label: string, onStage: (stage: string) => void,
): Promise<`0x${string}`> {
  const ask = async (): Promise<TransactionStep[]> =>
    (await post(`/api/v1/offers/${offer.hash}/buy`, { buyer: account, domains })).transactions;
  let steps = await ask();
  if (steps[0].step === "approve") {
    onStage(`Approve the market to take ${price(offer.price, offer.currency)} in your wallet…`);
    const hash = await sendStep(walletClient, account, steps[0], { label: `allow the market to take the CPY to ${label}` });
    onStage("Waiting for the approval to be mined…");
    await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 1000 });
    steps = await ask();
  }
  const buy = steps.find((s) => s.step === "buy")!;
  onStage(`Confirm the purchase of ${price(offer.price, offer.currency)} in your wallet…`);
  return sendStep(walletClient, account, buy, { label });
}
