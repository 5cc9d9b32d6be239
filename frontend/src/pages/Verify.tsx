import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import { api } from "../api";
import { Proof, type Registration } from "../components/Proof";
import { explain } from "../errors";

/** What a QR code on a letter or certificate opens: one registration, readable without a wallet. */
export function Verify() {
  const { id } = useParams();
  const [registration, setRegistration] = useState<Registration | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setRegistration(null);
    setError(null);
    api(`/api/v1/registrations/${encodeURIComponent(id ?? "")}`).then(setRegistration, (e) => setError(explain(e)));
  }, [id]);
  return (
    <section>
      <h1>Registration</h1>
      {!registration && !error && <p role="status">Loading registration…</p>}
      {error && (
        <div className="empty" role="alert">
          <h2>No final registration with this id</h2>
          <p>{error}</p>
          <p>Check the address you opened, or <Link to="/">look the image up</Link> by dropping it.</p>
        </div>
      )}
      {registration && (
        <>
          <p>
            This image was registered on the Copytrack register. The owner's address, the time and the content hash
            are on the chain; the file is on IPFS under its CID, so anyone can check that the file matches.
          </p>
          <Proof registration={registration} />
          <p className="mono wrap small">Registration id (the file's SHA-256): {registration.id}</p>
        </>
      )}
    </section>
  );
}
