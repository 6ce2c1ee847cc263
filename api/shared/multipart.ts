import type { Request, Response } from 'express';
import multer from 'multer';
import { ApiError } from '../errors';

/**
 * multipart/form-data bodies (file uploads), read by multer into memory once the caller is
 * authenticated. Every limit multer enforces becomes an ApiError of the project's error model that
 * names the file by its position in the request (`files[2]`) and its name, never a 500.
 */

/** What a route accepts as multipart/form-data. */
export interface MultipartOptions {
  /** The repeatable file field, e.g. `files`. */
  fileField: string;
  /** The largest file accepted, in bytes. */
  maxFileBytes: number;
  /** The most files one request may carry. */
  maxFiles: number;
  /** The longest text field value accepted, in bytes. */
  maxFieldBytes?: number;
}

/** One file of the request, in the order it was sent. */
export interface UploadedFile {
  /** Its place among the request's files, from 0: the `files[index]` that errors name. */
  index: number;
  /** The name the client gave it (without any path). */
  fileName: string;
  /** The Content-Type the client declared for it; never trusted, only recorded. */
  declaredType: string | null;
  content: Buffer;
}

export interface MultipartBody {
  fields: Record<string, string>;
  files: UploadedFile[];
}

const DEFAULT_MAX_FIELD_BYTES = 8 * 1024;
/** Text fields besides the files (e.g. `item`, the page's `_nonce` and `_lang`). */
const MAX_TEXT_FIELDS = 10;

const megabytes = (bytes: number) => `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;

/** `files[2]`: how errors name a file of the request. */
export const fileFieldName = (fileField: string, index: number) => `${fileField}[${index}]`;

/** The declared type as the client sent it, or null when it said nothing useful. */
function declaredTypeOf(mimetype: string | undefined): string | null {
  const type = mimetype?.trim().toLowerCase();
  return type && type !== 'application/octet-stream' ? type.slice(0, 255) : null;
}

function fileError(status: number, code: string, field: string, fileName: string | undefined, problem: string, extra: Record<string, unknown> = {}): ApiError {
  const named = fileName === undefined ? field : `${field} (${JSON.stringify(fileName)})`;
  return new ApiError(status, code, `${named} ${problem}`, [{ in: 'body', field, code, fileName: fileName ?? null, message: problem, ...extra }]);
}

function translate(error: unknown, options: MultipartOptions, names: string[]): Error {
  if (!(error instanceof multer.MulterError)) {
    // busboy's complaints about the body itself ("Unexpected end of form", a missing boundary...).
    if (error instanceof Error && !(error instanceof ApiError) && !('status' in error)) {
      return new ApiError(400, 'malformed_multipart', `The multipart/form-data body could not be read: ${error.message}`);
    }
    return error instanceof Error ? error : new Error(String(error));
  }
  const lastIndex = names.length - 1;
  // multer names the file it refused (its types do not declare it yet); the last one it saw otherwise.
  const refusedName = (error as { filename?: string }).filename ?? names[lastIndex];
  switch (error.code) {
    case 'LIMIT_FILE_SIZE':
      return fileError(413, 'file_too_large', fileFieldName(options.fileField, lastIndex), refusedName, `is larger than ${megabytes(options.maxFileBytes)} (${options.maxFileBytes} bytes), the most a file may be`, {
        maxBytes: options.maxFileBytes,
      });
    case 'LIMIT_FILE_COUNT':
      return new ApiError(413, 'too_many_files', `A request may carry at most ${options.maxFiles} files; send the rest in another request`, [
        { in: 'body', field: options.fileField, message: `at most ${options.maxFiles} files a request`, maxFiles: options.maxFiles },
      ]);
    case 'LIMIT_UNEXPECTED_FILE':
      return ApiError.validation([{ in: 'body', field: error.field ?? '(file)', message: `is not a file field of this endpoint; send files as "${options.fileField}"` }]);
    case 'LIMIT_FIELD_VALUE':
      return ApiError.validation([{ in: 'body', field: error.field ?? '(field)', message: `is longer than ${options.maxFieldBytes ?? DEFAULT_MAX_FIELD_BYTES} bytes` }]);
    default:
      return new ApiError(413, 'multipart_limit', `The multipart/form-data body is refused: ${error.message}`, { code: error.code, field: error.field ?? null });
  }
}

/**
 * Reads a multipart/form-data body into `{ fields, files }`. Anything else is a 415; a body that
 * breaks a limit is refused whole, nothing of it kept.
 */
export function createMultipartReader(options: MultipartOptions): (req: Request, res: Response) => Promise<MultipartBody> {
  return async (req, res) => {
    if (!req.is('multipart/form-data')) {
      throw new ApiError(415, 'unsupported_media_type', 'The request body must be multipart/form-data', { expected: 'multipart/form-data', received: req.get('content-type') ?? null });
    }
    const names: string[] = [];
    const upload = multer({
      storage: multer.memoryStorage(),
      // Browsers send file names as raw UTF-8 (e.g. Chinese names), without an explicit charset.
      defParamCharset: 'utf8',
      limits: {
        fileSize: options.maxFileBytes,
        files: options.maxFiles,
        fields: MAX_TEXT_FIELDS,
        fieldSize: options.maxFieldBytes ?? DEFAULT_MAX_FIELD_BYTES,
        parts: options.maxFiles + MAX_TEXT_FIELDS,
      },
      fileFilter: (_req, file, accept) => {
        names.push(file.originalname);
        accept(null, true);
      },
    }).array(options.fileField);
    await new Promise<void>((resolve, reject) => {
      void upload(req, res, (error?: unknown) => (error === undefined || error === null ? resolve() : reject(translate(error, options, names))));
    });
    const files = ((req.files ?? []) as Express.Multer.File[]).map((file, index) => ({
      index,
      fileName: file.originalname,
      declaredType: declaredTypeOf(file.mimetype),
      content: file.buffer,
    }));
    const fields: Record<string, string> = {};
    for (const [name, value] of Object.entries((req.body ?? {}) as Record<string, unknown>)) {
      if (typeof value === 'string') fields[name] = value;
      else if (Array.isArray(value)) throw ApiError.validation([{ in: 'body', field: name, message: 'must be sent once' }]);
    }
    return { fields, files };
  };
}
