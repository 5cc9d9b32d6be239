import { useCallback, useEffect, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api, ApiError, post } from "../api";
import { OutcomeLine, useAction } from "../components/SendPrepared";
import { Credits } from "../components/Credits";
import { SignInGate } from "../components/SignInGate";
import { explain } from "../errors";
import { amount, shortHex, utc } from "../format";
import { signTyped } from "../registration";
import { notReady, useApp } from "../wallet";

interface Claim {
  total: string;
  minimum: string;
  asset: string;
  lines: { item: string; amount: string; basis: string }[];
}
interface CaseSummary {
  id: number;
  reference: string;
  registration_id: string;
  domain: string;
  country: string;
  stage: string;
  status: string;
  deadline: string | null;
  claim: Claim | null;
}
interface Payment {
  amount: string;
  commission: string;
  to_rights_holder: string;
  outstanding: string;
  payer: string;
  tx_hash: string;
}
interface CaseDetail extends CaseSummary {
  evidence: { page_url: string; image_url: string; warc_cid: string | null; found_at: string };
  recipient: { name: string; email: string };
  escrow: { step: number; amount_due: string; amount_paid: string; commission_bps: number; payments: Payment[] } | null;
  timeline: { at: string; actor: string; event: string; detail: Record<string, unknown> }[];
  documents: { kind: string; sha256: string; language: string }[];
  messages: { at: string; role: string; author: string; body: string }[];
}

const STAGES: Record<string, string> = {
  opened: "opened",
  post_licensing_letter: "1 · post-licensing letter",
  invoice: "2 · invoice",
  legal_letter: "3 · legal letter",
  court_claim: "4 · court claim",
};
const ROLES: Record<string, string> = { rights_holder: "you", operator: "operator", lawyer: "partner lawyer", recipient: "recipient" };

const isEth = (asset: string) => /^0x0{40}$/i.test(asset);
const money = (units: string, asset: string) => amount(BigInt(units), 18, isEth(asset) ? "ETH" : "CPY");
const when = (iso: string) => utc(Date.parse(iso) / 1000);
const words = (name: string) => name.replace(/_/g, " ");

/** The rights-holder's cases (an operator sees every case): `/cases` and `/cases/:id`. */
export function Cases() {
  const { id } = useParams();
  return (
    <SignInGate title="Cases" why="Your cases are shown to your signed-in wallet only.">
      {id ? <CaseView id={id} /> : <CaseList />}
    </SignInGate>
  );
}

function CaseList() {
  const [cases, setCases] = useState<CaseSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api("/api/v1/cases").then((answer) => setCases(answer.cases), (e) => setError(explain(e)));
  }, []);
  return (
    <section>
      <h1>Cases</h1>
      {error && <p role="alert" className="error">{error}</p>}
      {!cases && !error && <p role="status">Loading…</p>}
      <OpenCase />
      <Credits sources={["settlement"]} why="Your share of what recipients pay is credited on the settlement escrow as each payment arrives; you withdraw it to your wallet yourself." />
      {cases && cases.length === 0 && (
        <div className="empty">
          <h2>No case yet</h2>
          <p>A case starts from the <Link to="/hits">hits</Link> you marked illegal: sign the enforcement mandate for the image, then open a case against the site. Letters, deadlines and payments then appear here.</p>
        </div>
      )}
      {cases && cases.length > 0 && (
        <div className="table-scroll">
          <table className="stacked">
            <caption className="sr-only">Your cases, newest first</caption>
            <thead><tr><th scope="col">Case</th><th scope="col">Site</th><th scope="col">Stage</th><th scope="col">Status</th><th scope="col">Claim</th><th scope="col">Next step</th></tr></thead>
            <tbody>
              {cases.map((c) => (
                <tr key={c.id}>
                  <th scope="row"><Link to={`/cases/${c.id}`} className="mono">{c.reference}</Link></th>
                  <td className="wrap" data-label="Site">{c.domain} ({c.country})</td>
                  <td data-label="Stage">{STAGES[c.stage] ?? words(c.stage)}</td>
                  <td data-label="Status">{c.status}</td>
                  <td data-label="Claim">{c.claim ? money(c.claim.total, c.claim.asset) : "—"}</td>
                  <td data-label="Next step">{c.deadline && c.status === "active" ? when(c.deadline) : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/**
 * Open a case against a site from the hits marked illegal there: sign the enforcement mandate for
 * the image (once; the platform records it on the settlement escrow), check the case, open it.
 * The Hits page links here with the image and the domain filled in.
 */
function OpenCase() {
  const app = useApp();
  const { walletClient, address } = app;
  const waiting = notReady(app);
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [registration, setRegistration] = useState(params.get("registration") ?? "");
  const [domain, setDomain] = useState(params.get("domain") ?? "");
  const [failures, setFailures] = useState<string[]>([]);
  const { busy, outcome, run } = useAction(() => undefined);
  const query = () => new URLSearchParams({ registration_id: registration.trim().toLowerCase(), domain: domain.trim().toLowerCase() });

  const sign = () => run(async () => {
    const { typed_data: typed } = await api(`/api/v1/mandates/typed-data?registration_id=${encodeURIComponent(registration.trim().toLowerCase())}`);
    if (!walletClient || !address) throw new Error(waiting ?? "Connect your wallet first.");
    const signature = await signTyped(walletClient, address, typed);
    await post("/api/v1/mandates", { typed_data: typed, signature });
  }, "The mandate is signed and recorded on the settlement escrow: Copytrack may now claim for this image on your behalf.");

  const open = (event: React.FormEvent) => {
    event.preventDefault();
    setFailures([]);
    run(async () => {
      try {
        const opened = await post("/api/v1/cases", Object.fromEntries(query()));
        navigate(`/cases/${opened.id}`);
      } catch (e) {
        if (e instanceof ApiError && Array.isArray(e.details.failures)) setFailures(e.details.failures);
        throw e;
      }
    }, "The case is open; its first letter is on its way.");
  };

  return (
    <form className="card stack" onSubmit={open} aria-labelledby="open-case-h">
      <h2 id="open-case-h">Open a case</h2>
      <p className="small">From your hits marked illegal on one site. Copytrack checks the site again (contact, country, the copy still there) before anything is sent; this takes a few seconds.</p>
      <label htmlFor="open-registration">Registration id of the image</label>
      <input id="open-registration" className="mono" autoComplete="off" spellCheck={false} placeholder="0x…" value={registration} onChange={(e) => setRegistration(e.target.value)} required />
      <label htmlFor="open-domain">Site (domain)</label>
      <input id="open-domain" autoComplete="off" spellCheck={false} placeholder="shop.example" value={domain} onChange={(e) => setDomain(e.target.value)} required />
      <div className="case-actions">
        <button type="button" className="secondary" onClick={sign} disabled={busy || !registration.trim() || !!waiting}>Sign the enforcement mandate</button>
        <button type="submit" disabled={busy}>{busy ? "Working…" : "Check and open the case"}</button>
      </div>
      {waiting && <p className="muted small">{waiting}</p>}
      <OutcomeLine outcome={outcome} />
      {failures.length > 0 && (
        <ul aria-label="What stops this case">
          {failures.map((f) => <li key={f}>{f}</li>)}
        </ul>
      )}
    </form>
  );
}

function CaseView({ id }: { id: string }) {
  const [view, setView] = useState<CaseDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      setView(await api(`/api/v1/cases/${encodeURIComponent(id)}`));
      setError(null);
    } catch (e) {
      setError(e instanceof ApiError && e.status === 404 ? `There is no case ${id} of yours.` : explain(e));
    }
  }, [id]);
  useEffect(() => {
    load();
  }, [load]);

  if (error && !view) {
    return (
      <section>
        <h1>Case</h1>
        <p role="alert" className="error">{error}</p>
        <p><Link to="/cases">All your cases</Link></p>
      </section>
    );
  }
  if (!view) return <p role="status">Loading…</p>;
  return (
    <section>
      <p><Link to="/cases">← All your cases</Link></p>
      <h1>Case {view.reference}</h1>
      <dl>
        <dt>Site</dt><dd>{view.domain} ({view.country})</dd>
        <dt>Stage</dt><dd data-testid="stage">{STAGES[view.stage] ?? words(view.stage)}</dd>
        <dt>Status</dt><dd data-testid="status">{view.status}</dd>
        <dt>Next step</dt><dd>{view.deadline && view.status === "active" ? when(view.deadline) : "— (none while the case is not active)"}</dd>
        <dt>Recipient</dt><dd>{view.recipient.name} &lt;{view.recipient.email}&gt;</dd>
        <dt>Found</dt><dd><a href={view.evidence.page_url} rel="noreferrer noopener">{view.evidence.page_url}</a> on {when(view.evidence.found_at)}{view.evidence.warc_cid && <> (<a href={`/ipfs/${view.evidence.warc_cid}`}>page snapshot, WARC</a>)</>}</dd>
        <dt>Image</dt><dd><Link to={`/verify/${view.registration_id}`}>registration {shortHex(view.registration_id, 8)}</Link></dd>
      </dl>
      {view.claim && <ClaimCard claim={view.claim} escrow={view.escrow} />}
      <Actions view={view} reload={load} />
      <Timeline view={view} />
      <Conversation view={view} reload={load} />
    </section>
  );
}

function ClaimCard({ claim, escrow }: { claim: Claim; escrow: CaseDetail["escrow"] }) {
  return (
    <div className="card">
      <h2>Claim and payments</h2>
      <table className="stacked">
        <caption className="sr-only">How the claim was calculated</caption>
        <tbody>
          {claim.lines.map((line) => (
            <tr key={line.item}><th scope="row">{words(line.item)}</th><td>{/^\d+$/.test(line.amount) ? money(line.amount, claim.asset) : line.amount}</td><td className="small muted">{line.basis}</td></tr>
          ))}
          <tr><th scope="row">least you accept</th><td>{money(claim.minimum, claim.asset)}</td><td /></tr>
        </tbody>
      </table>
      {!escrow ? <p className="muted">The settlement escrow has not shown this case yet; it appears once the chain has recorded it.</p> : (
        <>
          <p>Paid <strong data-testid="paid">{money(escrow.amount_paid, claim.asset)}</strong> of {money(escrow.amount_due, claim.asset)}; commission {escrow.commission_bps / 100}%.</p>
          {escrow.payments.length === 0 ? <p className="muted">No payment yet.</p> : (
            <div className="table-scroll">
              <table className="stacked">
                <caption>Each payment's split, as the settlement escrow made it on-chain</caption>
                <thead><tr><th scope="col">Paid</th><th scope="col">Commission</th><th scope="col">To you</th><th scope="col">Still outstanding</th><th scope="col">Transaction</th></tr></thead>
                <tbody>
                  {escrow.payments.map((p) => (
                    <tr key={p.tx_hash + p.outstanding}>
                      <td data-label="Paid">{money(p.amount, claim.asset)}</td>
                      <td data-label="Commission">{money(p.commission, claim.asset)}</td>
                      <td data-label="To you">{money(p.to_rights_holder, claim.asset)}</td>
                      <td data-label="Still outstanding">{money(p.outstanding, claim.asset)}</td>
                      <td data-label="Transaction" className="mono" title={p.tx_hash}>{shortHex(p.tx_hash, 8)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </div>
  );
}

function Actions({ view, reload }: { view: CaseDetail; reload(): Promise<void> }) {
  const { busy, outcome, run } = useAction(reload);
  const [reason, setReason] = useState("");
  const open = view.status === "active" || view.status === "held" || view.status === "paused";
  if (!open) return <p className="muted">This case is {view.status}; nothing more happens to it.</p>;
  const act = (action: "hold" | "resume" | "close", done: string) =>
    run(() => post(`/api/v1/cases/${view.id}/${action}`, action === "resume" ? {} : { reason }), done).then((ok) => ok && setReason(""));
  const needsReason = reason.trim() === "";
  return (
    <div className="card stack">
      <h2>Hold, resume or close</h2>
      <p className="small">A held case sends nothing until it is resumed; a closed case is over. Either is logged on-chain.</p>
      <label htmlFor="case-reason">Reason (for hold and close)</label>
      <input id="case-reason" value={reason} maxLength={1000} onChange={(e) => setReason(e.target.value)} />
      <div className="case-actions">
        {view.status === "active"
          ? <button onClick={() => act("hold", "The case is held: no letter goes out until you resume it.")} disabled={busy || needsReason}>Hold</button>
          : <button onClick={() => act("resume", "The case is active again; a new deadline runs for its stage.")} disabled={busy}>Resume</button>}
        <button className="secondary" onClick={() => act("close", "The case is closed.")} disabled={busy || needsReason}>Close the case</button>
      </div>
      <OutcomeLine outcome={outcome} />
    </div>
  );
}

function Timeline({ view }: { view: CaseDetail }) {
  return (
    <div className="card">
      <h2>Timeline</h2>
      <ol className="timeline">
        {view.timeline.map((entry, n) => (
          <li key={n}>
            <span className="small muted">{when(entry.at)}</span> — {words(entry.event)}
            {typeof entry.detail.reason === "string" && <>: “{entry.detail.reason}”</>}
            <span className="small muted"> ({entry.actor.startsWith("0x") ? shortHex(entry.actor, 6) : entry.actor})</span>
          </li>
        ))}
      </ol>
      <h3>Documents</h3>
      {view.documents.length === 0 ? <p className="muted">No letter has been sent yet.</p> : (
        <ul>
          {view.documents.map((d) => (
            <li key={d.kind}>{words(d.kind)} ({d.language}), SHA-256 <span className="mono" title={d.sha256}>{shortHex(d.sha256, 8)}</span> — logged on-chain with its step</li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Conversation({ view, reload }: { view: CaseDetail; reload(): Promise<void> }) {
  const { busy, outcome, run } = useAction(reload);
  const [body, setBody] = useState("");
  const send = (event: React.FormEvent) => {
    event.preventDefault();
    run(() => post(`/api/v1/cases/${view.id}/messages`, { body }), "Sent; the operator and the partner lawyer are told by mail.")
      .then((ok) => ok && setBody(""));
  };
  return (
    <form className="card stack" onSubmit={send} aria-labelledby="conversation-h">
      <h2 id="conversation-h">Conversation</h2>
      {view.messages.length === 0 ? <p className="muted">No message yet. Write to the operator and the partner lawyer here.</p> : (
        <ul className="messages">
          {view.messages.map((m, n) => (
            <li key={n}><strong>{ROLES[m.role] ?? words(m.role)}</strong> <span className="small muted">{when(m.at)}</span><p>{m.body}</p></li>
          ))}
        </ul>
      )}
      <label htmlFor="message-body">Your message</label>
      <textarea id="message-body" rows={3} maxLength={5000} value={body} onChange={(e) => setBody(e.target.value)} required />
      <button type="submit" disabled={busy || body.trim() === ""}>Send</button>
      <OutcomeLine outcome={outcome} />
    </form>
  );
}
