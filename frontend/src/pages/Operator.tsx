import { useCallback, useEffect, useState } from "react";
import { api, ApiError, post } from "../api";
import { OutcomeLine, useAction, useSendPrepared } from "../components/SendPrepared";
import { SignInGate } from "../components/SignInGate";
import { explain } from "../errors";
import { amount, shortHex, utc, VERIFICATION } from "../format";
import type { ApiTransaction } from "../transactions";
import { useApp } from "../wallet";

interface ReviewCase {
  id: number;
  reference: string;
  domain: string;
  country: string;
  stage: string;
  status: string;
  claim: { total: string; asset: string } | null;
  why: { at: string; actor: string; event: string; detail: Record<string, unknown> } | null;
}
interface Country {
  country: string;
  name: string;
  legal_stages: boolean;
  letter_language: string;
  currency: string;
  partners: { key: string; name: string; email: string; address: string; languages: string[] }[];
}
interface Level {
  address: string;
  level: number;
  registrations: number;
}
export interface OperatorView {
  address: string;
  review: ReviewCase[];
  partners: Country[];
  verifications: Level[];
}

const EVENTS: Record<string, string> = {
  held: "held",
  licence_proof: "the recipient uploaded a licence",
  disputed: "the recipient disputes the claim",
};

/** Whether the signed-in wallet is an operator: the API answers 404 to everyone else. */
export function useOperator(): OperatorView | null | "not-operator" {
  const { session } = useApp();
  const [view, setView] = useState<OperatorView | null | "not-operator">(null);
  useEffect(() => {
    setView(null);
    if (!session) return;
    api("/api/v1/operator").then(setView, () => setView("not-operator"));
  }, [session]);
  return view;
}

/** The platform operator's page: cases waiting for review, partner firms per country, verification levels. */
export function Operator() {
  return (
    <SignInGate title="Operator" why="This page is for Copytrack's operators; the server checks your address against its list.">
      <OperatorWorkspace />
    </SignInGate>
  );
}

function OperatorWorkspace() {
  const [view, setView] = useState<OperatorView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notOperator, setNotOperator] = useState(false);
  const load = useCallback(() => {
    api("/api/v1/operator").then((v) => {
      setView(v);
      setError(null);
    }, (e) => {
      if (e instanceof ApiError && e.status === 404) setNotOperator(true);
      else setError(explain(e));
    });
  }, []);
  useEffect(load, [load]);

  if (notOperator) {
    return (
      <section>
        <h1>Operator</h1>
        <div className="empty" role="alert">
          <h2>Not an operator</h2>
          <p>This page is only for the addresses in the server's setting <code>enforcement_operators</code>. If you run this Copytrack, add your address there and restart it.</p>
        </div>
      </section>
    );
  }
  return (
    <section>
      <h1>Operator</h1>
      {error && <p role="alert" className="error">{error}</p>}
      {!view ? <p role="status">Loading…</p> : (
        <>
          <ReviewQueue cases={view.review} reload={load} />
          <Verifications levels={view.verifications} reload={load} />
          <Partners countries={view.partners} />
        </>
      )}
    </section>
  );
}

function ReviewQueue({ cases, reload }: { cases: ReviewCase[]; reload(): void }) {
  const { busy, outcome, run } = useAction(reload);
  const resume = (c: ReviewCase) => run(() => post(`/api/v1/cases/${c.id}/resume`, {}),
    `Case ${c.reference} resumed; a new deadline runs for its stage.`);
  return (
    <div className="card">
      <h2>Cases waiting for review</h2>
      {cases.length === 0 ? (
        <p className="muted">No case is waiting. Cases held by an owner or operator, and cases paused by a recipient's licence or dispute, appear here.</p>
      ) : (
        <div className="table-scroll">
          <table className="stacked">
            <caption className="sr-only">Held and paused cases, oldest first</caption>
            <thead><tr><th scope="col">Case</th><th scope="col">Site</th><th scope="col">Stage</th><th scope="col">Status</th><th scope="col">Why</th><th scope="col">Claim</th><th scope="col">Action</th></tr></thead>
            <tbody>
              {cases.map((c) => (
                <tr key={c.id}>
                  <th scope="row" className="mono">{c.reference}</th>
                  <td className="wrap" data-label="Site">{c.domain} ({c.country})</td>
                  <td data-label="Stage">{c.stage.replace(/_/g, " ")}</td>
                  <td data-label="Status">{c.status}</td>
                  <td data-label="Why">
                    {c.why ? <>{EVENTS[c.why.event] ?? c.why.event.replace(/_/g, " ")}{typeof c.why.detail.reason === "string" && `: “${c.why.detail.reason}”`}<br />
                      <span className="small muted">{utc(Date.parse(c.why.at) / 1000)}</span></> : "—"}
                  </td>
                  <td data-label="Claim">{c.claim ? amount(BigInt(c.claim.total), 18, /^0x0{40}$/i.test(c.claim.asset) ? "ETH" : "CPY") : "—"}</td>
                  <td><button className="secondary" onClick={() => resume(c)} disabled={busy} aria-label={`Resume case ${c.reference}`}>Resume</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <OutcomeLine outcome={outcome} />
    </div>
  );
}

function Verifications({ levels, reload }: { levels: Level[]; reload(): void }) {
  const { send, busy, outcome } = useSendPrepared();
  const [chosen, setChosen] = useState<Record<string, number>>({});
  const set = async (account: string) => {
    const level = chosen[account];
    const ok = await send(() => post("/api/v1/operator/verifications", { account, level }).then((a: { transactions: ApiTransaction[] }) => a.transactions),
      `set ${shortHex(account, 4)} to “${VERIFICATION[level]}”`,
      `Recorded ${shortHex(account, 4)} as “${VERIFICATION[level]}” on the register; the list shows it once the block is final.`);
    if (ok) setTimeout(reload, 4000);
  };
  return (
    <div className="card">
      <h2>Verification levels</h2>
      <p>A rights-holder's level is recorded on the register by an attestor; your wallet signs it (it needs the register's attestor role).</p>
      {levels.length === 0 ? <p className="muted">No rights-holder has registered an image yet.</p> : (
        <div className="table-scroll">
          <table className="stacked">
            <caption className="sr-only">Rights-holders and their verification levels</caption>
            <thead><tr><th scope="col">Rights-holder</th><th scope="col">Registrations</th><th scope="col">Level</th><th scope="col">Change to</th></tr></thead>
            <tbody>
              {levels.map((l) => {
                const next = chosen[l.address] ?? l.level;
                return (
                  <tr key={l.address}>
                    <th scope="row" className="mono" title={l.address}>{shortHex(l.address, 6)}</th>
                    <td className="num" data-label="Registrations">{l.registrations}</td>
                    <td data-label="Level" data-testid={`level-${l.address}`}>{VERIFICATION[l.level] ?? l.level}</td>
                    <td className="inline" data-label="Change to">
                      <select aria-label={`New level for ${l.address}`} value={next} onChange={(e) => setChosen({ ...chosen, [l.address]: Number(e.target.value) })}>
                        {VERIFICATION.map((name, level) => <option key={name} value={level}>{name}</option>)}
                      </select>
                      <button onClick={() => set(l.address)} disabled={busy || next === l.level} aria-label={`Record the new level for ${l.address}`}>Record</button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <OutcomeLine outcome={outcome} />
    </div>
  );
}

function Partners({ countries }: { countries: Country[] }) {
  return (
    <div className="card">
      <h2>Partner law firms by country</h2>
      {countries.length === 0 ? <p className="muted">No country names a partner firm. Add firms in the file named by the setting <code>enforcement_partners_file</code>.</p> : (
        <div className="table-scroll">
          <table className="stacked">
            <caption className="sr-only">Countries with partner law firms</caption>
            <thead><tr><th scope="col">Country</th><th scope="col">Legal stages</th><th scope="col">Letters in</th><th scope="col">Firms</th></tr></thead>
            <tbody>
              {countries.map((c) => (
                <tr key={c.country}>
                  <th scope="row">{c.name} ({c.country})</th>
                  <td data-label="Legal stages">{c.legal_stages ? "yes" : "no"}</td>
                  <td data-label="Letters in">{c.letter_language}</td>
                  <td data-label="Firms">
                    <ul className="plain">
                      {c.partners.map((p) => <li key={p.key}>{p.name}, <a href={`mailto:${p.email}`}>{p.email}</a> <span className="small muted">({p.languages.join(", ")})</span></li>)}
                    </ul>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
