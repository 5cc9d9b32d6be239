import { useId, useState, type DragEvent } from "react";

/** A drop target that is also a labelled file input (keyboard and screen readers use the input). */
export function DropZone({ label, multiple, onFiles }: { label: string; multiple?: boolean; onFiles(files: File[]): void }) {
  const id = useId();
  const [over, setOver] = useState(false);
  const drop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    const files = Array.from(event.dataTransfer.files);
    if (files.length) onFiles(multiple ? files : files.slice(0, 1));
  };
  return (
    <div
      className={over ? "drop over" : "drop"}
      onDragOver={(e) => { e.preventDefault(); setOver(true); }}
      onDragLeave={() => setOver(false)}
      onDrop={drop}
    >
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="file"
        accept="image/jpeg,image/png,image/webp,image/gif"
        multiple={multiple}
        onChange={(e) => {
          const files = Array.from(e.target.files ?? []);
          e.target.value = "";
          if (files.length) onFiles(files);
        }}
      />
      <p className="muted">JPEG, PNG, WebP or GIF. Drop {multiple ? "files" : "a file"} here or choose with the button.</p>
    </div>
  );
}
