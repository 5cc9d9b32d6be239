import { useEffect, useState } from "react";
import { useApp } from "./wallet";

/**
 * The chain's clock in unix seconds (escrow windows and licence terms run on block time, and a
 * development chain's clock may be far from the wall clock); the browser's clock until it is read.
 */
export function useChainTime(refreshMs = 10_000): number {
  const { publicClient } = useApp();
  const [now, setNow] = useState(() => Math.floor(Date.now() / 1000));
  useEffect(() => {
    if (!publicClient) return;
    let stopped = false;
    const read = () => publicClient.getBlock().then((b) => !stopped && setNow(Number(b.timestamp)), () => undefined);
    read();
    const timer = setInterval(read, refreshMs);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [publicClient, refreshMs]);
  return now;
}
