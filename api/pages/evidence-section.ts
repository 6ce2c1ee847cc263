import type { Locale } from '../../db/schema';
import type { EvidenceFileDto } from '../evidence/store';
import { MAX_EVIDENCE_FILES_PER_CASE } from '../evidence/store';
import type { Text } from './link-page';
import { evidenceStrings } from './strings';

/**
 * The evidence upload widget of a customer link page. A link page shows it when its action declares
 * `evidence` (api/routes/links.ts) and its form view asks for evidence (`PageView.evidence`): the
 * customer pages (customer-pages.ts) then list the case's files and render this section above the
 * page's own form. It is its own multipart form to `/links/:token/evidence`: without JavaScript a
 * plain POST that comes back (303) to the page; with it, one XMLHttpRequest per file with a
 * <progress> each, the refusal of a file shown beside it, and the uploaded files added to the list.
 */

/** A piece of evidence the page asks for: a plain string (the same in both languages) or a value with its words. */
export type EvidenceItem = string | { value: string; label: Text };

/** What a link page's form view asks for: which evidence it lists in the widget's "these files are" choice. */
export interface EvidenceRequest {
  items: readonly EvidenceItem[];
}

export interface EvidenceSectionInput {
  /** The link's token: the widget posts to and downloads from `/links/<token>/evidence`. */
  token: string;
  locale: Locale;
  items: readonly EvidenceItem[];
  /** The case's files as the link's JSON API lists them (their urls under the link). */
  files: readonly EvidenceFileDto[];
  /** The page's form nonce (`nonce.mac`), so that the plain form POST is accepted as the page's own. */
  formNonce: string;
  /** The page's script and style nonces (Content-Security-Policy). */
  scriptNonce: string;
  styleNonce: string;
}

/** The view the template `evidence.eta` renders. */
export interface EvidenceSectionView {
  lang: Locale;
  action: string;
  nonce: string;
  scriptNonce: string;
  styleNonce: string;
  heading: string;
  intro: string;
  itemLabel: string;
  itemUnspecified: string;
  items: { value: string; label: string }[];
  filesLabel: string;
  uploadButton: string;
  uploadedHeading: string;
  noneYet: string;
  files: { id: string; fileName: string; item: string | null; url: string; thumbnailUrl: string | null; size: string }[];
  /** The words the script shows, by outcome or error code. */
  messages: string;
  accept: string;
}

export function formatFileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

const itemValue = (item: EvidenceItem) => (typeof item === 'string' ? item : item.value);
const itemLabel = (item: EvidenceItem, locale: Locale) => (typeof item === 'string' ? item : item.label[locale]);

/** The widget's view: its form, the items to choose from, the files already uploaded (with thumbnails) and the script's words. */
export function evidenceSection(input: EvidenceSectionInput): EvidenceSectionView {
  const t = (value: Text) => value[input.locale];
  const labelOf = (value: string | null) => {
    const found = value === null ? undefined : input.items.find((item) => itemValue(item) === value);
    return found ? itemLabel(found, input.locale) : value;
  };
  const refusal = evidenceStrings.refusal;
  return {
    lang: input.locale,
    action: `/links/${encodeURIComponent(input.token)}/evidence`,
    nonce: input.formNonce,
    scriptNonce: input.scriptNonce,
    styleNonce: input.styleNonce,
    heading: t(evidenceStrings.heading),
    intro: t(evidenceStrings.intro(MAX_EVIDENCE_FILES_PER_CASE)),
    itemLabel: t(evidenceStrings.itemLabel),
    itemUnspecified: t(evidenceStrings.itemUnspecified),
    items: input.items.map((item) => ({ value: itemValue(item), label: itemLabel(item, input.locale) })),
    filesLabel: t(evidenceStrings.filesLabel),
    uploadButton: t(evidenceStrings.uploadButton),
    uploadedHeading: t(evidenceStrings.uploadedHeading(input.files.length, MAX_EVIDENCE_FILES_PER_CASE)),
    noneYet: t(evidenceStrings.noneYet),
    files: input.files.map((file) => ({ id: file.id, fileName: file.fileName, item: labelOf(file.item), url: file.url, thumbnailUrl: file.thumbnailUrl, size: formatFileSize(file.sizeBytes) })),
    messages: JSON.stringify({
      uploading: t(evidenceStrings.uploading),
      uploaded: t(evidenceStrings.uploaded),
      uploadedHeading: t(evidenceStrings.uploadedHeading('{count}', MAX_EVIDENCE_FILES_PER_CASE)),
      download: t(evidenceStrings.download),
      max: MAX_EVIDENCE_FILES_PER_CASE,
      unknownType: t(evidenceStrings.unknownType),
      refusal: Object.fromEntries(Object.entries(refusal).map(([code, words]) => [code, t(words)])),
      items: Object.fromEntries(input.items.map((item) => [itemValue(item), itemLabel(item, input.locale)])),
    }),
    accept: 'image/jpeg,image/png,image/webp,application/pdf,.jpg,.jpeg,.png,.webp,.pdf',
  };
}

/** One refused file as the error details name it (api/evidence/store.ts). */
interface RefusedFile {
  field: string;
  code?: string;
  fileName?: string | null;
  message: string;
  detectedType?: string | null;
}

const isRefusedFile = (value: unknown): value is RefusedFile =>
  typeof value === 'object' && value !== null && typeof (value as RefusedFile).field === 'string' && typeof (value as RefusedFile).message === 'string';

/** The lines a page shows for a refused upload, each naming the file, in the page's language. */
export function evidenceRefusalLines(error: { code: string; message: string; details: unknown }, locale: Locale): string[] {
  const refusal = evidenceStrings.refusal;
  const problems = Array.isArray(error.details) ? error.details.filter(isRefusedFile) : [];
  const wordsFor = (code: string, problem?: RefusedFile) => {
    const known = (refusal as Record<string, Text | undefined>)[code];
    const words = (known ?? refusal.other)[locale];
    return words
      .replace('{type}', problem?.detectedType ?? evidenceStrings.unknownType[locale])
      .replace('{max}', String(MAX_EVIDENCE_FILES_PER_CASE))
      .replace('{message}', problem?.message ?? error.message);
  };
  if (problems.length === 0) return [wordsFor(error.code)];
  return problems.map((problem) => `${problem.fileName ?? problem.field} ${wordsFor(problem.code ?? 'other', problem)}`);
}
