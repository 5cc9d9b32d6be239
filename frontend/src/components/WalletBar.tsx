import { useState } from "react";
import { explain } from "../errors";
import { shortHex } from "../format";
import { useApp } from "../wallet";

/** Connect one of the wallets the browser announced, and warn when it is on another chain. */
export function WalletBar() {
  const app = useApp();
  const [error, setError] = useState<string | null>(null);
  const run = (action: () => Promise<void>) => {
    setError(null);
    action().catch((e) => setError(explain(e)));
  };
  if (!app.address) {
    return (
      <div className="wallet" aria-live="polite">
        {app.wallets.length === 0 ? (
          <span className="muted">No wallet found in this browser</span>
        ) : (
          app.wallets.map((w) => (
            <button key={w.info.uuid} onClick={() => run(() => app.connect(w))}>
              <img src={w.info.icon} alt="" width={18} height={18} /> Connect {w.info.name}
            </button>
          ))
        )}
        {error && <p role="alert" className="error">{error}</p>}
      </div>
    );
  }
  const wrongChain = app.chain && app.walletChainId !== app.chain.id;
  return (
    <div className="wallet" aria-live="polite">
      <span className="address" title={app.address}>
        {app.wallet?.info.name}: {shortHex(app.address, 4)}
      </span>
      <button className="secondary" onClick={app.disconnect}>Disconnect</button>
      {wrongChain && (
        <div role="alert" className="banner">
          Your wallet is on chain {app.walletChainId}; Copytrack runs on {app.chain!.name} ({app.chain!.id}).{" "}
          <button onClick={() => run(app.switchChain)}>Switch to {app.chain!.name}</button>
        </div>
      )}
      {error && <p role="alert" className="error">{error}</p>}
    </div>
  );
}
