// A test wallet: an EIP-1193 provider announced through EIP-6963 that forwards to anvil, whose
// unlocked dev accounts sign (personal_sign, eth_signTypedData_v4, eth_sendTransaction). The test
// sets `window.__wallet.reject` to make the "user" refuse the next request of a method.
(({ rpcUrl, account, chainId, names }) => {
  // Like a real wallet, the chain it was switched to outlasts a reload of the page.
  // It knows only the chain it starts on until a site adds another (EIP-3085), as real wallets do.
  const state = {
    chainId: sessionStorage.getItem("testWallet.chainId") || chainId,
    added: JSON.parse(sessionStorage.getItem("testWallet.added") || "[]"),
    reject: new Set(),
    calls: [],
  };
  window.__wallet = state;
  const listeners = {};
  const emit = (event, value) => (listeners[event] || []).forEach((f) => f(value));
  let id = 0;
  const forward = async (method, params) => {
    const response = await fetch(rpcUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params: params || [] }),
    });
    const body = await response.json();
    if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code, data: body.error.data });
    return body.result;
  };
  const provider = {
    async request({ method, params }) {
      state.calls.push(method);
      if (state.reject.has(method)) {
        state.reject.delete(method);
        throw Object.assign(new Error("User rejected the request."), { code: 4001 });
      }
      switch (method) {
        case "eth_requestAccounts":
        case "eth_accounts":
          return [account];
        case "eth_chainId":
          return state.chainId;
        case "wallet_addEthereumChain":
          state.added.push(params[0]);
          sessionStorage.setItem("testWallet.added", JSON.stringify(state.added));
          return null;
        case "wallet_switchEthereumChain":
          if (params[0].chainId !== chainId && !state.added.some((c) => c.chainId === params[0].chainId)) {
            throw Object.assign(new Error(`Unrecognized chain ID ${params[0].chainId}`), { code: 4902 });
          }
          state.chainId = params[0].chainId;
          sessionStorage.setItem("testWallet.chainId", state.chainId);
          emit("chainChanged", state.chainId);
          return null;
        default:
          return forward(method, params);
      }
    },
    on: (event, f) => (listeners[event] = [...(listeners[event] || []), f]),
    removeListener: (event, f) => (listeners[event] = (listeners[event] || []).filter((g) => g !== f)),
  };
  const icon = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 8 8'%3E%3Crect width='8' height='8' fill='%23f80'/%3E%3C/svg%3E";
  const details = names.map((name, n) => Object.freeze({
    info: { uuid: `00000000-0000-4000-8000-00000000000${n}`, name, icon, rdns: `org.copytrack.test${n}` },
    provider,
  }));
  const announce = () => details.forEach((detail) => window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail })));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
})
