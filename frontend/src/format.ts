import { formatUnits } from "viem";

export const shortHex = (value: string, keep = 6) =>
  value.length > 2 * keep + 2 ? `${value.slice(0, keep + 2)}…${value.slice(-keep)}` : value;

export const utc = (seconds: number | bigint) =>
  new Date(Number(seconds) * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");

/** A token amount with every digit the contract keeps, grouped for reading, trailing zeros dropped. */
export function amount(units: bigint, decimals: number, symbol: string): string {
  const [whole, fraction] = formatUnits(units, decimals).split(".");
  const grouped = BigInt(whole).toLocaleString("en-US");
  return `${fraction ? `${grouped}.${fraction}` : grouped} ${symbol}`;
}

export function duration(seconds: number): string {
  if (seconds <= 0) return "closed";
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return days > 0 ? `${days} d ${hours} h ${minutes} min` : `${hours} h ${minutes} min ${seconds % 60} s`;
}

export const VERIFICATION = ["not verified", "identity checked", "verified creator"];
