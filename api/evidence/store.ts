import { createHash } from 'node:crypto';
import { fromBuffer as sniffFileType } from 'file-type';
import sharp from 'sharp';
import { z } from 'zod';
import { appendAuditEvent } from '../../activities/shared/audit';
import type { Db, DbExecutor } from '../../db';
import { EVIDENCE_TYPES, type CaseKind, type EvidenceType } from '../../db/schema';
import { ApiError } from '../errors';
import { fileFieldName, type MultipartOptions, type UploadedFile } from '../shared/multipart';

/**
 * Evidence files of a case (claims stand or fall on them): what may be stored, the thumbnails of
 * images, and the append-only table `evidence_files`. The routes (staff and signed links) and the
 * customer pages all store through `prepareEvidence` + `storeEvidence`.
 */

/** The largest file accepted: 10 MB. */
export const MAX_EVIDENCE_FILE_BYTES = 10 * 1024 * 1024;
/** The most files a case holds. */
export const MAX_EVIDENCE_FILES_PER_CASE = 30;
/** The longest description of which evidence a file is. */
export const MAX_EVIDENCE_ITEM_LENGTH = 200;
/** Thumbnails fit in a square of this many pixels (WebP). */
export const THUMBNAIL_PIXELS = 240;
/** The multipart field that carries the files. */
export const EVIDENCE_FILE_FIELD = 'files';

/** How an upload's body is read (api/shared/multipart.ts), by the API and by the customer page's plain form alike. */
export const EVIDENCE_MULTIPART: MultipartOptions = {
  fileField: EVIDENCE_FILE_FIELD,
  maxFileBytes: MAX_EVIDENCE_FILE_BYTES,
  // One more than a case holds, so that a request of 31 files is refused naming the 31st.
  maxFiles: MAX_EVIDENCE_FILES_PER_CASE + 1,
};

const TYPE_NAMES: Record<EvidenceType, string> = {
  'image/jpeg': 'JPEG',
  'image/png': 'PNG',
  'image/webp': 'WebP',
  'application/pdf': 'PDF',
};
const ACCEPTED_TYPES_TEXT = 'JPEG, PNG, WebP or PDF';

const isEvidenceType = (mime: string): mime is EvidenceType => (EVIDENCE_TYPES as readonly string[]).includes(mime);

/** The text fields of an upload: which required evidence the files are. */
export const evidenceUploadFieldsSchema = z.object({
  item: z
    .string()
    .trim()
    .max(MAX_EVIDENCE_ITEM_LENGTH)
    .optional()
    .transform((value) => (value ? value : null))
    .meta({ description: `Which required evidence these files are (free text, at most ${MAX_EVIDENCE_ITEM_LENGTH} characters), e.g. "delivery note marked damaged"` }),
});

export const evidenceFileSchema = z
  .object({
    id: z.uuid(),
    fileName: z.string(),
    item: z.string().nullable(),
    declaredType: z.string().nullable().meta({ description: 'The Content-Type the uploader declared; recorded, never trusted' }),
    sniffedType: z.enum(EVIDENCE_TYPES).meta({ description: 'The type judged from the bytes; downloads are served as this type' }),
    sizeBytes: z.number().int(),
    sha256: z.string(),
    uploadedBy: z.string(),
    uploadedByRole: z.string(),
    uploadedAt: z.string(),
    url: z.string().meta({ description: 'Path of the download on this API (for link holders, under their link)' }),
    thumbnailUrl: z.string().nullable().meta({ description: `Path of a ${THUMBNAIL_PIXELS} px WebP thumbnail; null for a PDF` }),
  })
  .meta({ id: 'EvidenceFile' });
export type EvidenceFileDto = z.output<typeof evidenceFileSchema>;

export const evidenceListSchema = z.object({ caseNumber: z.string(), files: z.array(evidenceFileSchema), maxFiles: z.number().int() }).meta({ id: 'EvidenceList' });

/** A case evidence is stored with. */
export interface EvidenceCase {
  id: string;
  kind: CaseKind;
  number: string;
  workflowId: string;
}

/** Who uploads: a staff user's name and role, or a customer contact with role `customer`. */
export interface EvidenceUploader {
  name: string;
  role: string;
}

/** An evidence file as listed: everything but its bytes. */
export interface EvidenceRecord {
  id: string;
  caseId: string;
  item: string | null;
  fileName: string;
  declaredType: string | null;
  sniffedType: EvidenceType;
  sizeBytes: number;
  sha256: string;
  hasThumbnail: boolean;
  uploadedBy: string;
  uploadedByRole: string;
  uploadedAt: Date;
}

/** A file that passed every check, ready to store. */
export interface PreparedEvidence {
  index: number;
  fileName: string;
  declaredType: string | null;
  sniffedType: EvidenceType;
  sha256: string;
  content: Buffer;
  thumbnail: Buffer | null;
}

interface FileProblem {
  status: number;
  code: string;
  field: string;
  fileName: string;
  message: string;
  detectedType?: string | null;
}

/** Where a download is served: to staff (`/evidence/:id`) or under the holder's link. */
export interface EvidenceUrls {
  file(id: string): string;
  thumbnail(id: string): string;
}

export const staffEvidenceUrls: EvidenceUrls = {
  file: (id) => `/evidence/${id}`,
  thumbnail: (id) => `/evidence/${id}/thumbnail`,
};

export function linkEvidenceUrls(token: string): EvidenceUrls {
  const base = `/links/${encodeURIComponent(token)}/evidence`;
  return { file: (id) => `${base}/${id}`, thumbnail: (id) => `${base}/${id}/thumbnail` };
}

export function toEvidenceDto(record: EvidenceRecord, urls: EvidenceUrls): EvidenceFileDto {
  return {
    id: record.id,
    fileName: record.fileName,
    item: record.item,
    declaredType: record.declaredType,
    sniffedType: record.sniffedType,
    sizeBytes: record.sizeBytes,
    sha256: record.sha256,
    uploadedBy: record.uploadedBy,
    uploadedByRole: record.uploadedByRole,
    uploadedAt: record.uploadedAt.toISOString(),
    url: urls.file(record.id),
    thumbnailUrl: record.hasThumbnail ? urls.thumbnail(record.id) : null,
  };
}

/** A small WebP of the image, upright (EXIF orientation applied), without its metadata (no GPS position). */
async function thumbnailOf(content: Buffer): Promise<Buffer> {
  return sharp(content)
    .rotate()
    .resize({ width: THUMBNAIL_PIXELS, height: THUMBNAIL_PIXELS, fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 80 })
    .toBuffer();
}

async function prepareOne(file: UploadedFile): Promise<PreparedEvidence | FileProblem> {
  const field = fileFieldName(EVIDENCE_FILE_FIELD, file.index);
  const named = (status: number, code: string, message: string, detectedType?: string | null): FileProblem => ({ status, code, field, fileName: file.fileName, message, detectedType });
  if (file.content.length === 0) return named(422, 'empty_file', 'is empty');
  if (file.fileName.trim() === '') return named(400, 'file_name_missing', 'has no file name');
  const detected = await sniffFileType(file.content);
  if (!detected || !isEvidenceType(detected.mime)) {
    const what = detected ? `${detected.mime} (.${detected.ext})` : 'of no recognised type';
    return named(415, 'unsupported_file_type', `is ${what} by its bytes, not ${ACCEPTED_TYPES_TEXT}`, detected?.mime ?? null);
  }
  let thumbnail: Buffer | null = null;
  if (detected.mime !== 'application/pdf') {
    try {
      thumbnail = await thumbnailOf(file.content);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return named(422, 'unreadable_image', `starts like a ${TYPE_NAMES[detected.mime]} image but cannot be read as one (${reason})`, detected.mime);
    }
  }
  return {
    index: file.index,
    fileName: file.fileName.slice(0, 255),
    declaredType: file.declaredType,
    sniffedType: detected.mime,
    sha256: createHash('sha256').update(file.content).digest('hex'),
    content: file.content,
    thumbnail,
  };
}

/**
 * Checks every file of an upload by its bytes and makes the thumbnails of images. One refused file
 * refuses the upload: the error names each refused file (`files[2]`, its name, what its bytes are),
 * with the status of the first (415 not an accepted type, 413 too large, 422 empty or unreadable).
 */
export async function prepareEvidence(files: readonly UploadedFile[]): Promise<PreparedEvidence[]> {
  if (files.length === 0) throw ApiError.validation([{ in: 'body', field: EVIDENCE_FILE_FIELD, message: 'at least one file is required' }]);
  const prepared: PreparedEvidence[] = [];
  const problems: FileProblem[] = [];
  for (const file of files) {
    if (file.content.length > MAX_EVIDENCE_FILE_BYTES) {
      problems.push({ status: 413, code: 'file_too_large', field: fileFieldName(EVIDENCE_FILE_FIELD, file.index), fileName: file.fileName, message: `is larger than 10 MB (${MAX_EVIDENCE_FILE_BYTES} bytes), the most a file may be` });
      continue;
    }
    const result = await prepareOne(file);
    if ('status' in result) problems.push(result);
    else prepared.push(result);
  }
  const [first] = problems;
  if (first) {
    const summary = problems.map((problem) => `${problem.field} (${JSON.stringify(problem.fileName)}) ${problem.message}`).join('; ');
    throw new ApiError(
      first.status,
      first.code,
      `${summary}. Nothing was stored.`,
      problems.map((problem) => ({ in: 'body', field: problem.field, code: problem.code, fileName: problem.fileName, message: problem.message, ...(problem.detectedType === undefined ? {} : { detectedType: problem.detectedType }) })),
    );
  }
  return prepared;
}

const listedColumns = [
  'e.id',
  'e.case_id',
  'e.item',
  'e.file_name',
  'e.declared_type',
  'e.sniffed_type',
  'e.size_bytes',
  'e.sha256',
  'e.uploaded_by',
  'e.uploaded_by_role',
  'e.uploaded_at',
] as const;

type ListedRow = {
  id: string;
  case_id: string;
  item: string | null;
  file_name: string;
  declared_type: string | null;
  sniffed_type: EvidenceType;
  size_bytes: number;
  sha256: string;
  uploaded_by: string;
  uploaded_by_role: string;
  uploaded_at: Date;
  /** PostgreSQL answers a boolean; the type allows the 0/1 other dialects answer. */
  has_thumbnail: boolean | number;
};

function toRecord(row: ListedRow): EvidenceRecord {
  return {
    id: row.id,
    caseId: row.case_id,
    item: row.item,
    fileName: row.file_name,
    declaredType: row.declared_type,
    sniffedType: row.sniffed_type,
    sizeBytes: row.size_bytes,
    sha256: row.sha256,
    hasThumbnail: Boolean(row.has_thumbnail),
    uploadedBy: row.uploaded_by,
    uploadedByRole: row.uploaded_by_role,
    uploadedAt: new Date(row.uploaded_at),
  };
}

function selectListed(db: DbExecutor) {
  return db
    .selectFrom('evidence_files as e')
    .select(listedColumns)
    .select((eb) => eb('e.thumbnail', 'is not', null).as('has_thumbnail'));
}

const isUuid = (value: string) => z.uuid().safeParse(value).success;

export async function findEvidenceCaseByNumber(db: DbExecutor, caseNumber: string): Promise<EvidenceCase | undefined> {
  const row = await db.selectFrom('cases').select(['id', 'kind', 'number', 'workflow_id']).where('number', '=', caseNumber).executeTakeFirst();
  return row && { id: row.id, kind: row.kind, number: row.number, workflowId: row.workflow_id };
}

export async function findEvidenceCaseById(db: DbExecutor, caseId: string): Promise<EvidenceCase | undefined> {
  if (!isUuid(caseId)) return undefined;
  const row = await db.selectFrom('cases').select(['id', 'kind', 'number', 'workflow_id']).where('id', '=', caseId).executeTakeFirst();
  return row && { id: row.id, kind: row.kind, number: row.number, workflowId: row.workflow_id };
}

/** A case's evidence, oldest first, without the bytes. */
export async function listEvidence(db: DbExecutor, caseId: string): Promise<EvidenceRecord[]> {
  const rows = await selectListed(db).where('e.case_id', '=', caseId).orderBy('e.uploaded_at').orderBy('e.id').execute();
  return rows.map(toRecord);
}

/** One evidence file with its bytes (or its thumbnail's), for a download. */
export async function findEvidenceBytes(db: DbExecutor, id: string, which: 'content' | 'thumbnail'): Promise<{ record: EvidenceRecord; bytes: Buffer | null } | undefined> {
  if (!isUuid(id)) return undefined;
  const row = await selectListed(db).select(`e.${which} as bytes`).where('e.id', '=', id).executeTakeFirst();
  return row && { record: toRecord(row), bytes: row.bytes };
}

/** What an upload stored: every file of the request as stored (new or the earlier row of the same bytes), and the new ones. */
export interface StoredEvidence {
  files: EvidenceRecord[];
  added: EvidenceRecord[];
}

/**
 * Stores an upload in one transaction: all of it or nothing. The case's row is locked so that two
 * uploads at once cannot pass 30 files between them. The same bytes already in the case (or twice in
 * the request) are the row already there, not a new one; a file that would be the 31st is refused
 * (422) naming it. Each new file gets its audit entry.
 */
export async function storeEvidence(
  db: Db,
  input: { case: EvidenceCase; item: string | null; files: readonly PreparedEvidence[]; uploader: EvidenceUploader; at: Date },
): Promise<StoredEvidence> {
  return db.transaction().execute(async (trx) => {
    await trx.selectFrom('cases').select('id').where('id', '=', input.case.id).forUpdate().executeTakeFirstOrThrow();
    const existing = await selectListed(trx).where('e.case_id', '=', input.case.id).execute();
    const bySha = new Map(existing.map((row) => [row.sha256, toRecord(row)]));
    let count = existing.length;
    const files: EvidenceRecord[] = [];
    const added: EvidenceRecord[] = [];
    for (const file of input.files) {
      const earlier = bySha.get(file.sha256);
      if (earlier) {
        files.push(earlier);
        continue;
      }
      if (count >= MAX_EVIDENCE_FILES_PER_CASE) {
        const field = fileFieldName(EVIDENCE_FILE_FIELD, file.index);
        const message = `would be file ${count + 1} of case ${input.case.number}, which holds at most ${MAX_EVIDENCE_FILES_PER_CASE}`;
        throw new ApiError(422, 'too_many_files', `${field} (${JSON.stringify(file.fileName)}) ${message}. Nothing was stored.`, [
          { in: 'body', field, code: 'too_many_files', fileName: file.fileName, message, maxFiles: MAX_EVIDENCE_FILES_PER_CASE, stored: existing.length },
        ]);
      }
      const row = await trx
        .insertInto('evidence_files')
        .values({
          case_id: input.case.id,
          item: input.item,
          file_name: file.fileName,
          declared_type: file.declaredType,
          sniffed_type: file.sniffedType,
          size_bytes: file.content.length,
          sha256: file.sha256,
          content: file.content,
          thumbnail: file.thumbnail,
          uploaded_by: input.uploader.name,
          uploaded_by_role: input.uploader.role,
          uploaded_at: input.at,
        })
        .returning(['id', 'uploaded_at'])
        .executeTakeFirstOrThrow();
      const record: EvidenceRecord = {
        id: row.id,
        caseId: input.case.id,
        item: input.item,
        fileName: file.fileName,
        declaredType: file.declaredType,
        sniffedType: file.sniffedType,
        sizeBytes: file.content.length,
        sha256: file.sha256,
        hasThumbnail: file.thumbnail !== null,
        uploadedBy: input.uploader.name,
        uploadedByRole: input.uploader.role,
        uploadedAt: new Date(row.uploaded_at),
      };
      await appendAuditEvent(trx, {
        caseId: input.case.id,
        occurredAt: input.at.toISOString(),
        actor: input.uploader.name,
        actorRole: input.uploader.role,
        action: 'evidence.uploaded',
        comment: input.item,
        data: { evidenceId: record.id, fileName: record.fileName, item: record.item, sniffedType: record.sniffedType, sizeBytes: record.sizeBytes, sha256: record.sha256 },
        idempotencyKey: `evidence/${record.id}`,
      });
      bySha.set(file.sha256, record);
      count += 1;
      files.push(record);
      added.push(record);
    }
    return { files, added };
  });
}
