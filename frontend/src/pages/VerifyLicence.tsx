import { useEffect, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { api } from "../api";
import { useChainTime } from "../chainclock";
import { LicenceTerms } from "../components/LicenceTerms";
import { explain } from "../errors";
import type { Certificate } from "../market";

interface DomainCheck {
  domain: string;
  licensed: boolean;
}

/** What the QR code on a licence certificate opens: the licence, valid or not now, readable without a wallet. */
export function VerifyLicence() {
  const { id } = useParams();
  const now = useChainTime();
  const [certificate, setCertificate] = useState<Certificate | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [domain, setDomain] = useState("");
  const [check, setCheck] = useState<{ result?: DomainCheck; error?: string } | null>(null);

  useEffect(() => {
    setCertificate(null);
    setError(null);
    api(`/api/v1/licences/${encodeURIComponent(id ?? "")}/certificate`).then(setCertificate, (e) => setError(explain(e)));
  }, [id]);

  const checkDomain = (event: FormEvent) => {
    event.preventDefault();
    if (!certificate || !domain.trim()) return;
    const { licence } = certificate;
    const query = new URLSearchParams({ registration: licence.registration_id, domain: domain.trim(), licensee: licence.licensee });
    setCheck(null);
    api(`/api/v1/licences/check?${query}`).then((result) => setCheck({ result }), (e) => setCheck({ error: explain(e) }));
  };

  if (error) {
    return (
      <section>
        <h1>Licence</h1>
        <div className="empty" role="alert">
          <h2>No licence with this number</h2>
          <p>{error}</p>
          <p>Check the address you opened (the number is on the certificate), or <Link to="/">look the image up</Link> by dropping it.</p>
        </div>
      </section>
    );
  }
  if (!certificate) {
    return (
      <section>
        <h1>Licence</h1>
        <p role="status">Loading the licence…</p>
      </section>
    );
  }
  const { licence } = certificate;
  const expired = licence.ends_at !== null && Number(licence.ends_at) <= now;
  const valid = certificate.valid && !expired;
  const why = !certificate.valid
    ? licence.escrow.status === "refunded"
      ? "the purchase was refunded"
      : `it was revoked${licence.revocation_reason ? `: ${licence.revocation_reason}` : ""}`
    : "its term has ended";
  return (
    <section>
      <h1>Licence {licence.id}</h1>
      <p className={valid ? "verdict ok" : "verdict error"} data-testid="verdict">
        {valid ? "Valid now: this licence is recorded on the chain and in force." : `Not valid now: ${why}.`}
      </p>
      <div className="card">
        <LicenceTerms certificate={certificate} />
        <p className="small">
          <a href={`/api/v1/licences/${licence.id}/certificate?format=pdf`}>Certificate (PDF)</a> ·{" "}
          <a href={`/api/v1/licences/${licence.id}/certificate`}>Certificate data (JSON)</a>
        </p>
      </div>
      <form className="card" onSubmit={checkDomain} aria-labelledby="domain-check-h">
        <h2 id="domain-check-h">Does it cover a website?</h2>
        <p>The chain keeps the covered domains as hashes. Enter a domain or address to check it against them now.</p>
        <div className="inline">
          <label htmlFor="check-domain">Domain or web address</label>
          <input id="check-domain" value={domain} onChange={(e) => setDomain(e.target.value)} placeholder="shop.example" maxLength={253} />
          <button type="submit" disabled={!domain.trim()}>Check</button>
        </div>
        <div aria-live="polite">
          {check?.error && <p role="alert" className="error">{check.error}</p>}
          {check?.result && (
            <p className={check.result.licensed ? "ok" : "error"} data-testid="domain-verdict">
              {check.result.licensed
                ? `${check.result.domain} is covered by this licence now.`
                : `${check.result.domain} is not covered by this licence now.`}
            </p>
          )}
        </div>
      </form>
    </section>
  );
}
