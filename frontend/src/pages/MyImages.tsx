import { useCallback, useEffect, useRef, useState } from "react";
import { Link } from "react-router";
import { api, ApiError, upload } from "../api";
import { DropZone } from "../components/DropZone";
import { Groups, type Group } from "../components/Groups";
import { PendingList } from "../components/PendingList";
import { explain, isRejection } from "../errors";
import { shortHex, utc } from "../format";
import { registerGasless, registerOwn } from "../registration";
import { useApp } from "../wallet";

interface Prior {
  id: string;
  owner: string;
  registered_at: number;
  match: string;
  kind: string;
}

export interface Image {
  id: number;
  title: string | null;
  filename: string | null;
  sha256: string;
  cid: string;
  width: number;
  height: number;
  collection: string | null;
  category: string | null;
  status: "uploaded" | "committed" | "submitted" | "registered" | "conflict";
  tx_hash: string | null;
  last_error: string | null;
  registration: { id: string; block_number: number; registered_at: number } | null;
}

interface UploadRow {
  key: string;
  file: File;
  progress: number;
  state: "waiting" | "uploading" | "done" | "failed";
  error?: string;
  image?: Image;
  prior: Prior[];
}

const STATUS: Record<Image["status"], string> = {
  uploaded: "uploaded, not registered yet",
  committed: "gasless: committed, revealing…",
  submitted: "transaction sent, waiting until final…",
  registered: "registered (final)",
  conflict: "registered by someone else first",
};

const RETRIES = 2; // automatic retries of an upload that failed on the network or the server's side
const PARALLEL = 2;

/** The rights-holder's page: sign in, upload many images, register them, watch them become final. */
export function MyImages() {
  const app = useApp();
  const [signInError, setSignInError] = useState<string | null>(null);
  const [signingIn, setSigningIn] = useState(false);

  if (!app.address) {
    return (
      <section>
        <h1>My images</h1>
        <div className="empty">
          <h2>Connect your wallet to register images</h2>
          <p>
            Your wallet proves you are the rights-holder: registrations are made from your own address. Use the
            Connect button at the top{app.wallets.length === 0 ? " once you have installed a browser wallet" : ""}.
          </p>
        </div>
      </section>
    );
  }
  if (!app.session) {
    const signIn = () => {
      setSignInError(null);
      setSigningIn(true);
      app.signIn().catch((e) => setSignInError(explain(e))).finally(() => setSigningIn(false));
    };
    return (
      <section>
        <h1>My images</h1>
        <div className="empty">
          <h2>Sign in with your wallet</h2>
          <p>Your wallet signs a sign-in message (no transaction, no cost) so the server knows the images are yours.</p>
          <button onClick={signIn} disabled={signingIn}>{signingIn ? "Waiting for your wallet…" : "Sign in with Ethereum"}</button>
          {signInError && <p role="alert" className="error">{signInError}</p>}
        </div>
      </section>
    );
  }
  return <Workspace />;
}

function Workspace() {
  const app = useApp();
  const [collections, setCollections] = useState<Group[]>([]);
  const [categories, setCategories] = useState<Group[]>([]);
  const [images, setImages] = useState<Image[] | null>(null);
  const [filter, setFilter] = useState({ collection: "", category: "", status: "" });
  const [target, setTarget] = useState({ collection: "", category: "" });
  const [rows, setRows] = useState<UploadRow[]>([]);
  const [acknowledged, setAcknowledged] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<{ error: boolean; text: string; retry?: () => void } | null>(null);
  const queue = useRef<UploadRow[]>([]);
  const active = useRef(0);

  const loadGroups = useCallback(() => {
    api("/api/v1/collections").then((b) => setCollections(b.collections));
    api("/api/v1/categories").then((b) => setCategories(b.categories));
  }, []);
  const loadImages = useCallback(() => {
    const query = new URLSearchParams(Object.entries(filter).filter(([, v]) => v));
    api(`/api/v1/images?${query}`).then((b) => setImages(b.images), (e) => setMessage({ error: true, text: explain(e) }));
  }, [filter]);
  useEffect(loadGroups, [loadGroups]);
  useEffect(loadImages, [loadImages]);

  // Follow registrations until they are final (the indexer waits for confirmations).
  const waiting = images?.some((i) => i.status === "submitted" || i.status === "committed");
  useEffect(() => {
    if (!waiting) return;
    const timer = setInterval(loadImages, 1500);
    return () => clearInterval(timer);
  }, [waiting, loadImages]);

  const patchRow = (key: string, change: Partial<UploadRow>) =>
    setRows((all) => all.map((r) => (r.key === key ? { ...r, ...change } : r)));

  const pump = () => {
    while (active.current < PARALLEL && queue.current.length) {
      const row = queue.current.shift()!;
      active.current += 1;
      send(row, 0).finally(() => {
        active.current -= 1;
        pump();
      });
    }
  };

  const send = async (row: UploadRow, attempt: number): Promise<void> => {
    patchRow(row.key, { state: "uploading", progress: 0, error: undefined });
    const form = new FormData();
    form.append("file", row.file);
    if (target.collection) form.append("collection", target.collection);
    if (target.category) form.append("category", target.category);
    try {
      const answer = await upload("/api/v1/images", form, (p) => patchRow(row.key, { progress: p }));
      patchRow(row.key, { state: "done", progress: 1, image: answer.image, prior: answer.prior_registrations });
      loadImages();
    } catch (e) {
      const transient = e instanceof ApiError && (e.status === 0 || e.status >= 500);
      if (transient && attempt < RETRIES) return send(row, attempt + 1);
      patchRow(row.key, { state: "failed", error: explain(e) });
    }
  };

  const addFiles = (files: File[]) => {
    const added = files.map((file, n) => ({ key: `${Date.now()}-${n}-${file.name}`, file, progress: 0, state: "waiting" as const, prior: [] }));
    setRows((all) => [...all, ...added]);
    queue.current.push(...added);
    pump();
  };
  const retry = (row: UploadRow) => {
    queue.current.push(row);
    pump();
  };

  const ready = (images ?? []).filter((i) => i.status === "uploaded");
  const priors = rows.filter((r) => r.prior.length && r.image && ready.some((i) => i.id === r.image!.id));
  const blocked = priors.length > 0 && !acknowledged;
  const wrongChain = app.chain && app.walletChainId !== app.chain.id;
  const chainReady = !!(app.walletClient && app.publicClient);

  const act = async (label: string, action: () => Promise<void>) => {
    setBusy(label);
    setMessage(null);
    try {
      await action();
    } catch (e) {
      setMessage({ error: true, text: explain(e), retry: isRejection(e) ? () => act(label, action) : undefined });
    } finally {
      setBusy(null);
      loadImages();
    }
  };
  const registerWithWallet = () =>
    act("Sending your transaction…", async () => {
      await registerOwn(app.publicClient!, app.walletClient!, app.address!, ready.map((i) => i.id), () => loadImages());
      setMessage({ error: false, text: `Transaction sent for ${ready.length} image(s). They become final after a few blocks.` });
    });
  const registerWithoutGas = () =>
    act("Waiting for your signatures…", async () => {
      for (const image of ready) await registerGasless(app.walletClient!, app.address!, image.id);
      setMessage({ error: false, text: `Signed ${ready.length} registration(s); the platform relays them and pays the gas.` });
    });

  return (
    <section>
      <h1>My images</h1>
      <PendingList onChange={loadImages} />
      <div className="grid2">
        <Groups kind="collections" title="Collections" groups={collections} onChange={() => { loadGroups(); loadImages(); }} />
        <Groups kind="categories" title="Categories" groups={categories} onChange={() => { loadGroups(); loadImages(); }} />
      </div>

      <section className="card" aria-labelledby="upload-h">
        <h2 id="upload-h">Upload</h2>
        <div className="inline">
          <GroupSelect label="Put new uploads in collection" value={target.collection} groups={collections} onChange={(v) => setTarget({ ...target, collection: v })} />
          <GroupSelect label="Category" value={target.category} groups={categories} onChange={(v) => setTarget({ ...target, category: v })} />
        </div>
        <DropZone label="Choose images to upload" multiple onFiles={addFiles} />
        {rows.length > 0 && (
          <ul className="uploads" aria-label="Uploads">
            {rows.map((r) => (
              <li key={r.key}>
                <span className="name">{r.file.name}</span>
                <progress max={1} value={r.progress} aria-label={`Upload of ${r.file.name}`} />
                <span className={r.state === "failed" ? "error" : "muted"}>
                  {r.state === "waiting" && "waiting"}
                  {r.state === "uploading" && `${Math.round(r.progress * 100)}%`}
                  {r.state === "done" && "uploaded"}
                  {r.state === "failed" && `failed: ${r.error}`}
                </span>
                {r.state === "failed" && <button className="secondary" onClick={() => retry(r)}>Retry {r.file.name}</button>}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="card" aria-labelledby="register-h">
        <h2 id="register-h">Register</h2>
        {ready.length === 0 ? (
          <p className="muted">Nothing waiting. Upload images above; they appear here until you register them.</p>
        ) : (
          <>
            <p>{ready.length} image(s) uploaded and not registered yet.</p>
            {priors.length > 0 && (
              <div className="warning" role="alert">
                <h3>Already registered by someone else?</h3>
                <ul>
                  {priors.flatMap((r) => r.prior.map((p) => (
                    <li key={`${r.key}-${p.id}`}>
                      <strong>{r.file.name}</strong> resembles <Link to={`/verify/${p.id}`}>registration {shortHex(p.id, 6)}</Link>{" "}
                      by <span className="mono">{shortHex(p.owner, 4)}</span>, registered {utc(p.registered_at)} ({p.match === "exact" ? "the same file" : "a similar picture"}).
                    </li>
                  )))}
                </ul>
                <label className="check">
                  <input type="checkbox" checked={acknowledged} onChange={(e) => setAcknowledged(e.target.checked)} />
                  I hold the rights to these images and want to register them anyway.
                </label>
              </div>
            )}
            {wrongChain && <p className="error">Switch your wallet to {app.chain!.name} first (button at the top).</p>}
            <div className="actions">
              <button onClick={registerWithWallet} disabled={!!busy || blocked || !!wrongChain || !chainReady}>
                Register {ready.length} with my wallet (one transaction{ready.length > 100 ? " per 100" : ""})
              </button>
              <button className="secondary" onClick={registerWithoutGas} disabled={!!busy || blocked || !chainReady}>
                Register gasless (sign; the platform pays)
              </button>
            </div>
          </>
        )}
        <div aria-live="polite">
          {busy && <p role="status">{busy}</p>}
          {message && (
            <p role={message.error ? "alert" : "status"} className={message.error ? "error" : "ok"}>
              {message.text} {message.retry && <button onClick={message.retry}>Try again</button>}
            </p>
          )}
        </div>
      </section>

      <section aria-labelledby="images-h">
        <h2 id="images-h">Images</h2>
        <div className="inline filters">
          <GroupSelect label="Collection" value={filter.collection} groups={collections} onChange={(v) => setFilter({ ...filter, collection: v })} all />
          <GroupSelect label="Category" value={filter.category} groups={categories} onChange={(v) => setFilter({ ...filter, category: v })} all />
          <label>
            Status{" "}
            <select value={filter.status} onChange={(e) => setFilter({ ...filter, status: e.target.value })}>
              <option value="">all</option>
              {Object.keys(STATUS).map((s) => <option key={s} value={s}>{s}</option>)}
            </select>
          </label>
        </div>
        {images && images.length === 0 && (
          <p className="empty">No images here yet. Drop pictures into the upload box above to start.</p>
        )}
        <ul className="images">
          {images?.map((i) => <ImageCard key={i.id} image={i} collections={collections} categories={categories} onChange={loadImages} />)}
        </ul>
      </section>
    </section>
  );
}

function GroupSelect({ label, value, groups, onChange, all }: { label: string; value: string; groups: Group[]; onChange(v: string): void; all?: boolean }) {
  return (
    <label>
      {label}{" "}
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{all ? "all" : "none"}</option>
        {groups.map((g) => <option key={g.id} value={g.name}>{g.name}</option>)}
      </select>
    </label>
  );
}

function ImageCard({ image: i, collections, categories, onChange }: {
  image: Image; collections: Group[]; categories: Group[]; onChange(): void;
}) {
  const [error, setError] = useState<string | null>(null);
  const move = (field: "collection" | "category", name: string) =>
    api(`/api/v1/images/${i.id}`, { method: "PATCH", body: JSON.stringify({ [field]: name || null }) })
      .then(onChange, (e) => setError(explain(e)));
  const name = i.title || i.filename || `image ${i.id}`;
  return (
    <li className="card image" data-status={i.status}>
      <img className="thumb" src={`/ipfs/${i.cid}`} alt={name} loading="lazy" />
      <div>
        <h3>{name}</h3>
        <p className={`status ${i.status}`}>{STATUS[i.status]}</p>
        {i.registration && (
          <p>
            Since {utc(i.registration.registered_at)}, block {i.registration.block_number}.{" "}
            <Link to={`/verify/${i.registration.id}`}>Proof of registration</Link>
          </p>
        )}
        {i.tx_hash && <p className="mono small" title={i.tx_hash}>tx {shortHex(i.tx_hash, 10)}</p>}
        <p className="mono small wrap">CID <a href={`/ipfs/${i.cid}`}>{i.cid}</a></p>
        {i.last_error && <p className="error">{i.last_error}</p>}
        <div className="inline">
          <GroupSelect label="Collection" value={i.collection ?? ""} groups={collections} onChange={(v) => move("collection", v)} />
          <GroupSelect label="Category" value={i.category ?? ""} groups={categories} onChange={(v) => move("category", v)} />
        </div>
        {error && <p role="alert" className="error">{error}</p>}
      </div>
    </li>
  );
}
