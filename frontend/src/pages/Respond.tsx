import { CPYToken } from "virtual:abis";
import { useCallback, useEffect, useState } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { encodeFunctionData, parseEther } from "viem";
import { api } from "../api";
import { PendingList } from "../components/PendingList";
import { OutcomeLine, useAction, useSendPrepared } from "../components/SendPrepared";
import { explain } from "../errors";
import { amount, shortHex, utc } from "../format";
import type { ApiTransaction } from "../transactions";
import { useApp } from "../wallet";

/** GET /api/v1/responses/{reference} (the secret in X-Case-Secret). */
interface CaseView {
  reference: string;
  stage: string;
  status: string;
  deadline: string | null;
  evidence: { page_url: string; image_url: string; warc_cid: string | null; found_at: string };
  registration: { id: string; owner: string; tx_hash: string; block_time: string; cid: string; verify_url: string };
  mandate: { typed_data: { message: Record<string, unknown> }; signature: string } | null;
  claim: { asset: string; total: string; minimum: string; lines: { item: string; amount: string; basis: string }[] } | null;
  paid: string;
  outstanding: string;
  documents: { kind: string; sha256: string }[];
  payment?: ApiTransaction & { asset: string };
}

const STAGES: Record<string, string> = {
  opened: "opened",
  post_licensing_letter: "first letter: asking for a licence",
  invoice: "invoice (commercial collection)",
  legal_letter: "legal letter from the partner law firm",
  court_claim: "court claim",
};
const STATUSES: Record<string, string> = {
  active: "open: the next step follows at the deadline",
  held: "on hold: nothing happens until the rights-holder or operator resumes it",
  paused: "paused: your answer is being reviewed, no deadline runs",
  settled: "settled: paid in full, nothing more to do",
  closed: "closed",
};
const ITEMS: Record<string, string> = { licence_fee: "Licence fee", damages: "Damages", total: "Total" };
const ZERO = /^0x0{40}$/i;
const SECRET_KEY = (reference: string) => `copytrack.respond.${reference}`;

/** The letter recipient's page: the case with the reference and secret from the letter; no wallet to read or answer, one to pay. */
export function Respond() {
  const params = useParams();
  const location = useLocation();
  const navigate = useNavigate();
  const { status, address } = useApp();
  const reference = (params.reference ?? "").trim().toUpperCase();
  const fromLink = new URLSearchParams(location.search).get("secret");
  const [secret, setSecret] = useState(() => fromLink ?? (reference ? sessionStorage.getItem(SECRET_KEY(reference)) ?? "" : ""));
  const [typedReference, setTypedReference] = useState(reference);
  const [view, setView] = useState<CaseView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  // A link from the letter carries the secret: keep it for this tab only, and out of the address bar and history.
  useEffect(() => {
    if (fromLink && reference) {
      sessionStorage.setItem(SECRET_KEY(reference), fromLink);
      navigate(`/respond/${encodeURIComponent(reference)}`, { replace: true });
    }
  }, [fromLink, reference, navigate]);

  const load = useCallback(async () => {
    if (!reference || !secret) return;
    setLoading(true);
    try {
      setView(await api(`/api/v1/responses/${encodeURIComponent(reference)}`, { headers: { "X-Case-Secret": secret } }));
      sessionStorage.setItem(SECRET_KEY(reference), secret);
      setError(null);
    } catch (e) {
      setView(null);
      setError(explain(e));
    } finally {
      setLoading(false);
    }
  }, [reference, secret]);

  useEffect(() => {
    load();
    // Only a new reference loads by itself: typing the secret must not send a request per key.
  }, [reference]); // eslint-disable-line react-hooks/exhaustive-deps

  const open = (event: React.FormEvent) => {
    event.preventDefault();
    const next = typedReference.trim().toUpperCase();
    sessionStorage.setItem(SECRET_KEY(next), secret);
    if (next === reference) load();
    else navigate(`/respond/${encodeURIComponent(next)}`);
  };

  return (
    <section>
      <h1>Answer a letter</h1>
      {!view && (
        <>
          <p>Enter the case reference and the secret printed on the letter you received. You need no account and no wallet to read the case or to answer it.</p>
          <form className="card stack" onSubmit={open}>
            <label htmlFor="case-reference">Case reference</label>
            <input id="case-reference" autoComplete="off" placeholder="CT-…" value={typedReference} onChange={(e) => setTypedReference(e.target.value)} required />
            <label htmlFor="case-secret">Secret</label>
            <input id="case-secret" autoComplete="off" spellCheck={false} value={secret} onChange={(e) => setSecret(e.target.value)} required />
            <div><button type="submit" disabled={loading}>Open the case</button></div>
          </form>
        </>
      )}
      {loading && <p role="status">Opening the case…</p>}
      {error && <p role="alert" className="error">{error}</p>}
      {view && <CaseDetails view={view} secret={secret} reload={load} tokenSymbol={(asset) => assetSymbol(asset, status?.contracts)} connected={!!address} />}
    </section>
  );
}

function assetSymbol(asset: string, contracts?: Record<string, string>): { symbol: string; decimals: number } {
  if (ZERO.test(asset)) return { symbol: "ETH", decimals: 18 };
  if (contracts?.CPYToken && contracts.CPYToken.toLowerCase() === asset.toLowerCase()) return { symbol: "CPY", decimals: 18 };
  return { symbol: `tokens of ${shortHex(asset, 4)}`, decimals: 18 };
}

function CaseDetails({ view, secret, reload, tokenSymbol, connected }: {
  view: CaseView; secret: string; reload(): Promise<void>; connected: boolean;
  tokenSymbol(asset: string): { symbol: string; decimals: number };
}) {
  const asset = view.claim?.asset ?? "0x" + "0".repeat(40);
  const { symbol, decimals } = tokenSymbol(asset);
  const money = (units: string) => amount(BigInt(units), decimals, symbol);
  const answerable = !["settled", "closed"].includes(view.status);
  const mandate = view.mandate?.typed_data.message;
  const found = new Date(view.evidence.found_at);
  return (
    <>
      <div className="card">
        <h2>Case {view.reference}</h2>
        <dl>
          <dt>Stage</dt><dd data-testid="stage">{STAGES[view.stage] ?? view.stage}</dd>
          <dt>Status</dt><dd data-testid="case-status">{STATUSES[view.status] ?? view.status}</dd>
          <dt>Deadline</dt><dd>{view.deadline ? utc(Date.parse(view.deadline) / 1000) : "none running"}</dd>
        </dl>
      </div>
      <div className="card">
        <h2>The claim</h2>
        {view.claim ? (
          <div className="table-scroll">
            <table className="stacked">
              <caption className="sr-only">How the claim is calculated</caption>
              <thead><tr><th scope="col">Item</th><th scope="col">How</th><th scope="col">Amount</th></tr></thead>
              <tbody>
                {view.claim.lines.map((line) => (
                  <tr key={line.item}><th scope="row">{ITEMS[line.item] ?? line.item}</th><td data-label="How">{line.basis}</td><td className="num" data-label="Amount">{money(line.amount)}</td></tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : <p className="muted">No claim was calculated for this case.</p>}
        <dl>
          <dt>Paid</dt><dd data-testid="paid">{money(view.paid)}</dd>
          <dt>Outstanding</dt><dd data-testid="outstanding">{money(view.outstanding)}</dd>
        </dl>
      </div>
      <div className="card">
        <h2>The evidence</h2>
        <dl>
          <dt>Page</dt><dd className="wrap"><a href={view.evidence.page_url} rel="noopener noreferrer nofollow">{view.evidence.page_url}</a></dd>
          <dt>Image on that page</dt><dd className="wrap"><a href={view.evidence.image_url} rel="noopener noreferrer nofollow">{view.evidence.image_url}</a></dd>
          <dt>Found</dt><dd>{isNaN(found.getTime()) ? view.evidence.found_at : utc(found.getTime() / 1000)}</dd>
          <dt>Page snapshot</dt>
          <dd className="mono wrap">{view.evidence.warc_cid ? <a href={`/ipfs/${view.evidence.warc_cid}`}>{view.evidence.warc_cid}</a> : "none kept"}</dd>
        </dl>
      </div>
      <div className="card">
        <h2>The registration</h2>
        <p>The rights-holder registered this image on the Copytrack register before the copy was found; anyone can check it.</p>
        <dl>
          <dt>Registered by</dt><dd className="mono wrap">{view.registration.owner}</dd>
          <dt>Registered at</dt><dd>{utc(Number(view.registration.block_time))}</dd>
          <dt>Transaction</dt><dd className="mono" title={view.registration.tx_hash}>{shortHex(view.registration.tx_hash, 10)}</dd>
          <dt>IPFS CID</dt><dd className="mono wrap"><a href={`/ipfs/${view.registration.cid}`}>{view.registration.cid}</a></dd>
        </dl>
        <Link to={`/verify/${view.registration.id}`}>Verification page of the registration</Link>
      </div>
      <div className="card">
        <h2>The mandate</h2>
        {mandate ? (
          <>
            <p>The rights-holder signed this mandate for Copytrack to act for them (EIP-712, recorded on the settlement escrow).</p>
            <dl>
              <dt>Rights-holder</dt><dd className="mono wrap">{String(mandate.owner)}</dd>
              <dt>Agent</dt><dd className="mono wrap">{String(mandate.agent)}</dd>
              <dt>Valid until</dt><dd>{utc(Number(mandate.expiry))}</dd>
              <dt>Signature</dt><dd className="mono wrap small">{view.mandate!.signature}</dd>
            </dl>
          </>
        ) : <p className="muted">No mandate is attached to this case.</p>}
      </div>
      {view.documents.length > 0 && (
        <div className="card">
          <h2>Documents</h2>
          <ul>{view.documents.map((d) => <li key={d.kind + d.sha256}>{d.kind.replace(/_/g, " ").replace(/:.*/, "")} <span className="mono small wrap">SHA-256 {d.sha256}</span></li>)}</ul>
        </div>
      )}
      {answerable ? (
        <>
          {view.payment && <PayForm view={view} secret={secret} reload={reload} symbol={symbol} decimals={decimals} connected={connected} />}
          <LicenceProofForm reference={view.reference} secret={secret} reload={reload} />
          <DisputeForm reference={view.reference} secret={secret} reload={reload} />
          <PendingList onChange={reload} />
        </>
      ) : <p className="card">This case is {view.status}; there is nothing more to answer.</p>}
    </>
  );
}

function PayForm({ view, secret, reload, symbol, decimals, connected }: {
  view: CaseView; secret: string; reload(): Promise<void>; symbol: string; decimals: number; connected: boolean;
}) {
  const { address } = useApp();
  const { send, busy, outcome } = useSendPrepared();
  const outstanding = amount(BigInt(view.outstanding), decimals, symbol);
  const [value, setValue] = useState("");
  const pay = async (event: React.FormEvent) => {
    event.preventDefault();
    const typed = value.trim() || outstanding.replace(/ .*$/, "").replace(/,/g, "");
    await send(async () => {
      let units: bigint;
      try {
        units = parseEther(typed.replace(/,/g, ""));
      } catch {
        throw new Error(`${typed} is not an amount; write it like 0.05`);
      }
      const answer: CaseView = await api(`/api/v1/responses/${encodeURIComponent(view.reference)}?amount=${units}`,
        { headers: { "X-Case-Secret": secret } });
      const payment = answer.payment!;
      if (ZERO.test(payment.asset)) return [payment];
      // A token claim: the escrow pulls the tokens, so it must be allowed to first.
      const approve = encodeFunctionData({ abi: CPYToken, functionName: "approve", args: [payment.to, units] });
      return [{ to: payment.asset as `0x${string}`, data: approve, value: "0", chainId: payment.chainId }, payment];
    }, `pay ${typed} ${symbol} towards case ${view.reference}`, `Paid ${typed} ${symbol}. Thank you; the outstanding amount below is updated.`);
    setValue("");
    await reload();
  };
  return (
    <form className="card stack" onSubmit={pay} aria-labelledby="pay-h">
      <h2 id="pay-h">Pay</h2>
      <p>Pay the outstanding {outstanding} into the settlement escrow, at once or in instalments. Paying needs a wallet {connected ? "(connected)" : "— connect one with the button at the top"}; the transaction goes from your wallet straight to the escrow contract.</p>
      <label htmlFor="pay-amount">Amount in {symbol} (empty: everything outstanding)</label>
      <input id="pay-amount" inputMode="decimal" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} placeholder={outstanding.replace(/ .*$/, "")} />
      <div><button type="submit" disabled={busy || !address}>Pay from my wallet</button></div>
      <OutcomeLine outcome={outcome} />
    </form>
  );
}

function LicenceProofForm({ reference, secret, reload }: { reference: string; secret: string; reload(): Promise<void> }) {
  const { busy, outcome, run } = useAction(reload);
  const [file, setFile] = useState<File | null>(null);
  const [note, setNote] = useState("");
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    if (!file) return;
    const form = new FormData();
    form.append("file", file);
    form.append("note", note);
    const ok = await run(() => api(`/api/v1/responses/${encodeURIComponent(reference)}/licence-proof`,
      { method: "POST", body: form, headers: { "X-Case-Secret": secret } }),
      `We received ${file.name}. The case is paused while the rights-holder checks your licence; you will hear from us.`);
    if (ok) setNote("");
  };
  return (
    <form className="card stack" onSubmit={submit} aria-labelledby="licence-h">
      <h2 id="licence-h">I hold a licence</h2>
      <p>Upload the licence (PDF or image, up to 10 MB). The case pauses until the rights-holder has looked at it.</p>
      <label htmlFor="licence-file">Licence file</label>
      <input id="licence-file" type="file" accept="application/pdf,image/*" onChange={(e) => setFile(e.target.files?.[0] ?? null)} required />
      <label htmlFor="licence-note">Note (optional)</label>
      <textarea id="licence-note" rows={2} maxLength={5000} value={note} onChange={(e) => setNote(e.target.value)} />
      <div><button type="submit" disabled={busy || !file}>Send the licence</button></div>
      <OutcomeLine outcome={outcome} />
    </form>
  );
}

function DisputeForm({ reference, secret, reload }: { reference: string; secret: string; reload(): Promise<void> }) {
  const { busy, outcome, run } = useAction(reload);
  const [message, setMessage] = useState("");
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    const ok = await run(() => api(`/api/v1/responses/${encodeURIComponent(reference)}/dispute`,
      { method: "POST", body: JSON.stringify({ message }), headers: { "X-Case-Secret": secret } }),
      "Your dispute was sent. The case is paused until the rights-holder or our operator answers.");
    if (ok) setMessage("");
  };
  return (
    <form className="card stack" onSubmit={submit} aria-labelledby="dispute-h">
      <h2 id="dispute-h">I dispute the claim</h2>
      <label htmlFor="dispute-message">Why do you dispute it?</label>
      <textarea id="dispute-message" rows={4} maxLength={5000} value={message} onChange={(e) => setMessage(e.target.value)} required />
      <div><button type="submit" disabled={busy || !message.trim()}>Send the dispute</button></div>
      <OutcomeLine outcome={outcome} />
    </form>
  );
}
