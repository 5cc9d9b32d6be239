import { useState, type ReactNode } from "react";
import { explain } from "../errors";
import { useApp } from "../wallet";

/** Shows `children` to a signed-in wallet; otherwise says what to do next (connect, then sign in). */
export function SignInGate({ title, why, children }: { title: string; why: string; children: ReactNode }) {
  const app = useApp();
  const [waiting, setWaiting] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  if (app.session) return <>{children}</>;
  const start = () => {
    setProblem(null);
    setWaiting(true);
    app.signIn().catch((e) => setProblem(explain(e))).finally(() => setWaiting(false));
  };
  return (
    <section>
      <h1>{title}</h1>
      <div className="empty">
        {app.address ? (
          <>
            <h2>Sign in with your wallet</h2>
            <p>{why} Your wallet signs a message; no transaction, no cost.</p>
            <button onClick={start} disabled={waiting}>{waiting ? "Waiting for your wallet…" : "Sign in with Ethereum"}</button>
          </>
        ) : <p>Connect your wallet with the button at the top of the page, then sign in. {why}</p>}
        {problem && <p role="alert" className="error">{problem}</p>}
      </div>
    </section>
  );
}
