import { useEffect, useRef, useState } from "react";
import { useSearchParams } from "react-router";
import { api, post } from "../api";
import { OutcomeLine, useAction } from "../components/SendPrepared";
import { SignInGate } from "../components/SignInGate";
import { explain } from "../errors";
import { useLoaded } from "../loading";

interface AccountView {
  address: string;
  email: string | null;
  email_confirmed: boolean;
  hits_digest: boolean;
  note?: string | null;
}

const json = (method: string, body: unknown) => ({ method, body: JSON.stringify(body) });

/**
 * The account: the e-mail address where case news and the mail of new hits go (confirmed by a
 * link mailed to it), and the mail of new hits on or off. A confirmation link opens this page
 * with `?confirm=…`, which confirms without a wallet: the link's code is the proof.
 */
export function Account() {
  const [params, setParams] = useSearchParams();
  const token = params.get("confirm");
  return token ? <Confirm token={token} done={() => setParams({})} /> : (
    <SignInGate title="My account" why="Sign in with your wallet to choose where Copytrack writes to you.">
      <AccountSettings />
    </SignInGate>
  );
}

function Confirm({ token, done }: { token: string; done(): void }) {
  const [state, setState] = useState<{ ok: boolean; text: string } | null>(null);
  const sent = useRef(false);
  useEffect(() => {
    if (sent.current) return; // once, also under StrictMode's double effects: the code works once
    sent.current = true;
    post("/api/v1/account/email/confirm", { token }).then(
      (view: AccountView) => setState({ ok: true, text: `${view.email} is confirmed: case news and the mail of new hits go there now.` }),
      (e) => setState({ ok: false, text: explain(e) }),
    );
  }, [token]);
  return (
    <section>
      <h1>Confirm your e-mail address</h1>
      {state === null ? <p role="status">Confirming…</p>
        : <p role={state.ok ? "status" : "alert"} className={state.ok ? "ok" : "error"}>{state.text}</p>}
      {state && <p><button type="button" onClick={done}>Go to my account</button></p>}
    </section>
  );
}

function AccountSettings() {
  const { value: account, error, reload: load } = useLoaded<AccountView>(() => api("/api/v1/account"), []);
  const [email, setEmail] = useState("");
  useEffect(() => {
    if (account) setEmail((current) => current || account.email || "");
  }, [account]);
  const { busy, outcome, run } = useAction(load);

  if (error) return <section><h1>My account</h1><p role="alert" className="error">{error}</p></section>;
  if (!account) return <section><h1>My account</h1><p role="status">Loading your account…</p></section>;
  const save = (event: React.FormEvent) => {
    event.preventDefault();
    run(() => api("/api/v1/account/email", json("PUT", { email })),
      `A confirmation link is on its way to ${email.trim()}. Open it to start receiving mail there.`);
  };
  return (
    <section>
      <h1>My account</h1>
      <p className="small">Signed in as <code className="wrap">{account.address}</code></p>
      <form className="card stack" onSubmit={save} aria-labelledby="email-h">
        <h2 id="email-h">Where Copytrack writes to you</h2>
        <p className="small">Where you hear of your cases (letters sent, answers, payments) and, if you want, of new copies of your images the crawler finds. Nothing is sent to it until you open the link we mail there.</p>
        <label htmlFor="account-email">E-mail address</label>
        <input id="account-email" type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} required maxLength={254} />
        <p className="small" id="email-state">
          {account.email === null ? "No address yet."
            : account.email_confirmed ? `${account.email} is confirmed.`
              : `${account.email} is waiting for you to open the confirmation link.`}
        </p>
        <div className="actions">
          <button type="submit" disabled={busy || !email.trim() || (account.email_confirmed && email.trim() === account.email)}>
            {account.email && !account.email_confirmed && email.trim() === account.email ? "Send the link again" : "Save and confirm"}
          </button>
          {account.email && (
            <button type="button" className="secondary" disabled={busy}
              onClick={() => run(() => api("/api/v1/account/email", { method: "DELETE" }).then(() => setEmail("")), "Your address is forgotten; nothing more is mailed to it.")}>
              Forget my address
            </button>
          )}
        </div>
      </form>
      <div className="card stack">
        <h2 id="digest-h">New copies of my images</h2>
        <label className="check">
          <input type="checkbox" aria-describedby="digest-note" checked={account.hits_digest} disabled={busy || account.email === null}
            onChange={(e) => {
              const on = e.target.checked;
              run(() => api("/api/v1/account", json("PATCH", { hits_digest: on })),
                on ? "You will get a mail of new copies, at most one a day." : "No more mails of new copies.");
            }} />
          Mail me the new copies the crawler finds (at most one mail a day)
        </label>
        <p className="small" id="digest-note">{account.email === null ? "Set an e-mail address first." : "The mail lists each site and image, with a link to your hits."}</p>
      </div>
      <OutcomeLine outcome={outcome} />
    </section>
  );
}
