// Wallets and the chain: every EIP-1193 provider announced through EIP-6963 (mipd), the chain and
// contract addresses from /api/v1/status, and the Sign-In with Ethereum session.
import { createStore, type EIP6963ProviderDetail } from "mipd";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import {
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  getAddress,
  http,
  numberToHex,
  type Chain,
  type PublicClient,
  type WalletClient,
} from "viem";
import { createSiweMessage } from "viem/siwe";
import { post, status as fetchStatus, storeSession, storedSession, type Session, type Status } from "./api";

const store = createStore();

interface AppState {
  status: Status | null;
  statusError: string | null;
  chain: Chain | null;
  publicClient: PublicClient | null;
  wallets: readonly EIP6963ProviderDetail[];
  wallet: EIP6963ProviderDetail | null;
  walletClient: WalletClient | null;
  address: `0x${string}` | null;
  walletChainId: number | null;
  session: Session | null;
  connect(wallet: EIP6963ProviderDetail): Promise<void>;
  disconnect(): void;
  switchChain(): Promise<void>;
  signIn(): Promise<void>;
  signOut(): void;
}

const AppContext = createContext<AppState | null>(null);

export const useApp = () => useContext(AppContext)!;

/**
 * Why the wallet cannot sign or send for this app yet, in words, or null when it can. Its clients
 * exist once a wallet is connected and the server has named its chain (`/api/v1/status`, slow on
 * a busy server): a button that signs waits for both rather than failing when clicked early.
 */
export function notReady(app: Pick<AppState, "address" | "walletClient" | "publicClient" | "statusError">): string | null {
  if (!app.address) return "Connect your wallet first (the button at the top of the page).";
  if (app.walletClient && app.publicClient) return null;
  return app.statusError ? `The server did not say which chain it uses: ${app.statusError}` : "Waiting for the server to name its chain…";
}

function chainOf(status: Status): Chain {
  const rpc = status.chain.rpc_url;
  return defineChain({
    id: status.chain.chain_id,
    name: status.chain.chain_id === 31337 ? "Copytrack local chain" : `Chain ${status.chain.chain_id}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: rpc ? [rpc] : [] } },
  });
}

export function AppProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<Status | null>(null);
  const [statusError, setStatusError] = useState<string | null>(null);
  const [wallets, setWallets] = useState(store.getProviders());
  const [wallet, setWallet] = useState<EIP6963ProviderDetail | null>(null);
  const [address, setAddress] = useState<`0x${string}` | null>(null);
  const [walletChainId, setWalletChainId] = useState<number | null>(null);
  const [session, setSession] = useState<Session | null>(storedSession());

  useEffect(() => {
    fetchStatus().then(setStatus, (error) => setStatusError(error.message));
    const signedOut = () => setSession(null);
    window.addEventListener("copytrack-signed-out", signedOut);
    const unsubscribe = store.subscribe((providers) => setWallets(providers));
    return () => {
      unsubscribe();
      window.removeEventListener("copytrack-signed-out", signedOut);
    };
  }, []);

  const chain = useMemo(() => (status ? chainOf(status) : null), [status]);
  const publicClient = useMemo(() => {
    if (!chain) return null;
    if (status?.chain.rpc_url) return createPublicClient({ chain, transport: http(status.chain.rpc_url) });
    return wallet ? createPublicClient({ chain, transport: custom(wallet.provider) }) : null;
  }, [chain, status, wallet]);
  const walletClient = useMemo(
    () => (wallet && address && chain ? createWalletClient({ account: address, chain, transport: custom(wallet.provider) }) : null),
    [wallet, address, chain],
  );

  useEffect(() => {
    if (!wallet) return;
    const provider = wallet.provider;
    const onAccounts = (accounts: string[]) => {
      const next = accounts[0] ? getAddress(accounts[0]) : null;
      setAddress(next);
      if (!next || storedSession()?.address !== next) {
        storeSession(null);
        setSession(null);
      }
    };
    const onChain = (id: string) => setWalletChainId(Number(id));
    provider.on("accountsChanged", onAccounts as never);
    provider.on("chainChanged", onChain as never);
    return () => {
      provider.removeListener("accountsChanged", onAccounts as never);
      provider.removeListener("chainChanged", onChain as never);
    };
  }, [wallet]);

  const connect = useCallback(async (detail: EIP6963ProviderDetail) => {
    const accounts = (await detail.provider.request({ method: "eth_requestAccounts" })) as string[];
    const chainId = (await detail.provider.request({ method: "eth_chainId" })) as string;
    const next = getAddress(accounts[0]);
    setWallet(detail);
    setAddress(next);
    setWalletChainId(Number(chainId));
    localStorage.setItem("copytrack.wallet", detail.info.rdns);
    if (storedSession()?.address !== next) {
      storeSession(null);
      setSession(null);
    } else setSession(storedSession());
  }, []);

  // Reconnect silently to the wallet used last time, if it still grants this site its accounts.
  useEffect(() => {
    const rdns = localStorage.getItem("copytrack.wallet");
    const previous = wallets.find((w) => w.info.rdns === rdns);
    if (!previous || wallet) return;
    previous.provider.request({ method: "eth_accounts" }).then((accounts) => {
      if ((accounts as string[]).length) connect(previous);
    });
  }, [wallets, wallet, connect]);

  const disconnect = useCallback(() => {
    setWallet(null);
    setAddress(null);
    localStorage.removeItem("copytrack.wallet");
  }, []);

  const switchChain = useCallback(async () => {
    if (!wallet || !chain) return;
    const chainId = numberToHex(chain.id);
    try {
      await wallet.provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId }] });
    } catch (error) {
      if ((error as { code?: number }).code !== 4902) throw error;
      await wallet.provider.request({
        method: "wallet_addEthereumChain",
        params: [{ chainId, chainName: chain.name, nativeCurrency: chain.nativeCurrency, rpcUrls: chain.rpcUrls.default.http }],
      });
      // Some wallets switch when they add a chain, others only add it.
      await wallet.provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId }] });
    }
    setWalletChainId(Number(await wallet.provider.request({ method: "eth_chainId" })));
  }, [wallet, chain]);

  const signIn = useCallback(async () => {
    if (!wallet || !address) throw new Error("Connect a wallet first.");
    // Signing a message needs no chain: sign-in works before /api/v1/status has answered.
    const signer = createWalletClient({ account: address, transport: custom(wallet.provider) });
    const nonce = await post("/api/v1/auth/nonce", {});
    const message = createSiweMessage({
      domain: nonce.domain,
      address,
      statement: "Sign in to Copytrack to upload and register your images.",
      uri: window.location.origin,
      version: "1",
      chainId: Number(nonce.chain_id),
      nonce: nonce.nonce,
      issuedAt: new Date(),
    });
    const signature = await signer.signMessage({ account: address, message });
    const signed: Session = await post("/api/v1/auth/login", { message, signature });
    storeSession(signed);
    setSession(signed);
  }, [wallet, address]);

  const signOut = useCallback(() => {
    post("/api/v1/auth/logout", {}).catch(() => undefined);
    storeSession(null);
    setSession(null);
  }, []);

  const value: AppState = {
    status, statusError, chain, publicClient, wallets, wallet, walletClient, address, walletChainId,
    session: session && address && session.address === address ? session : null,
    connect, disconnect, switchChain, signIn, signOut,
  };
  return <AppContext.Provider value={value}>{children}</AppContext.Provider>;
}
