import { useState } from "react";
import { Link } from "react-router";
import { upload } from "../api";
import { DropZone } from "../components/DropZone";
import { Proof, type Registration } from "../components/Proof";
import { explain } from "../errors";

interface Match extends Registration {
  match: "exact" | "perceptual";
  kind: string;
  score: number;
}

const KINDS: Record<string, string> = {
  whole: "the same picture",
  flip: "a mirrored copy",
  rotation: "a rotated copy",
  region: "a crop or part of the picture",
  phash: "a similar picture (by its perceptual hash)",
};

/** Public: who registered this picture, when, and with what proof. */
export function Lookup() {
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ sha256: string; matches: Match[] } | null>(null);
  const [error, setError] = useState<string | null>(null);

  const look = async (files: File[]) => {
    setFile(files[0]);
    setResult(null);
    setError(null);
    setBusy(true);
    const form = new FormData();
    form.append("file", files[0]);
    try {
      setResult(await upload("/api/v1/lookup", form, () => undefined));
    } catch (e) {
      setError(explain(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <h1>Who registered this image?</h1>
      <p>
        Drop a picture to see whether it, or a resized, cropped or re-encoded copy of it, is registered: by whom,
        since when, and the proof anyone can check on the chain and on IPFS. No wallet needed.
      </p>
      <DropZone label="Choose an image to look up" onFiles={look} />
      <div aria-live="polite">
        {busy && <p role="status">Looking up {file?.name}…</p>}
        {error && <p role="alert" className="error">{error}</p>}
        {result && result.matches.length === 0 && (
          <div className="empty">
            <h2>Not registered</h2>
            <p>
              Nobody has registered <strong>{file?.name}</strong> or a picture that looks like it. If it is yours,
              go to <Link to="/images">My images</Link> to register it.
            </p>
          </div>
        )}
        {result && result.matches.length > 0 && (
          <>
            <h2>{result.matches.length === 1 ? "Registered" : `${result.matches.length} registrations found`}</h2>
            {result.matches.map((m) => (
              <Proof
                key={m.id}
                registration={m}
                heading={m.match === "exact" ? "Exactly this file" : `Matches ${KINDS[m.kind] ?? "a similar picture"} (score ${m.score})`}
              />
            ))}
          </>
        )}
      </div>
    </section>
  );
}
