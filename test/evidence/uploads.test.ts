import { createHash } from 'node:crypto';
import sharp from 'sharp';
import request, { type Response } from 'supertest';
import type { EvidenceListener } from '../../api/evidence/routes';
import type { UserRole } from '../../db/schema';
import { createTestApp, createUsers, testSignedLinks } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/db';
import {
  EVIDENCE_TEST_ACTION,
  NO_EVIDENCE_TEST_ACTION,
  createEvidenceCase,
  evidenceTestLinkActions,
  jpegImage,
  linuxExecutable,
  pdfDocument,
  pngImage,
  webpImage,
  windowsExecutable,
} from '../support/evidence';
import { bearer } from '../support/probes';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** supertest's binary parser: the body as a Buffer. */
function binary(res: Response, callback: (error: Error | null, body: Buffer) => void): void {
  // In Node, superagent hands the parser the response stream itself.
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => callback(null, Buffer.concat(chunks)));
}

describe('evidence uploads (API, PostgreSQL)', () => {
  let database: TestDatabase;
  let app: ReturnType<typeof createTestApp>;
  let tokens: Record<UserRole, string>;
  const links = testSignedLinks();
  const heard: Parameters<EvidenceListener>[0][] = [];
  /** For each file a listener heard of, whether another connection already saw it stored (committed). */
  const committedWhenHeard: boolean[] = [];
  const listeners: EvidenceListener[] = [
    async () => {
      throw new Error('a listener that always fails');
    },
    async (added) => {
      heard.push(added);
      for (const file of added.files) {
        committedWhenHeard.push((await database.db.selectFrom('evidence_files').select('id').where('id', '=', file.id).executeTakeFirst()) !== undefined);
      }
    },
  ];

  beforeAll(async () => {
    database = await createTestDatabase();
    app = createTestApp(database.db, { links, linkActions: evidenceTestLinkActions(), evidenceListeners: listeners });
    tokens = await createUsers(database.db, ['service_desk', 'engineer', 'billing', 'rd_reviewer']);
  });
  afterAll(() => database.drop());

  const desk = () => bearer(tokens.service_desk);
  const rowsOf = async (caseId: string) => database.db.selectFrom('evidence_files').selectAll().where('case_id', '=', caseId).orderBy('uploaded_at').execute();
  const linkFor = (caseId: string, action = EVIDENCE_TEST_ACTION) => `/links/${links.issue({ caseId, action, singleUse: false }).token}`;

  test('a PNG named .pdf and declared as PDF is stored as image/png, with a WebP thumbnail of at most 240 px; the listener hears of it after commit although another listener fails', async () => {
    const claim = await createEvidenceCase(database.db);
    const png = await pngImage(200);
    const res = await request(app)
      .post(`/cases/${claim.number}/evidence`)
      .set(desk())
      .field('item', 'photos of the damaged item')
      .attach('files', png, { filename: 'damage.pdf', contentType: 'application/pdf' });
    expect(res.status).toBe(201);
    const [file] = res.body.files;
    expect(file).toMatchObject({
      fileName: 'damage.pdf',
      item: 'photos of the damaged item',
      declaredType: 'application/pdf',
      sniffedType: 'image/png',
      sizeBytes: png.length,
      sha256: sha256(png),
      uploadedBy: 'service_desk user',
      uploadedByRole: 'service_desk',
      url: `/evidence/${file.id}`,
      thumbnailUrl: `/evidence/${file.id}/thumbnail`,
    });

    const thumbnail = await request(app).get(file.thumbnailUrl).set(bearer(tokens.engineer)).buffer(true).parse(binary);
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers['content-type']).toBe('image/webp');
    const meta = await sharp(thumbnail.body as Buffer).metadata();
    expect(meta.format).toBe('webp');
    expect(Math.max(meta.width, meta.height)).toBe(240);

    const audit = await database.db.selectFrom('audit_events').selectAll().where('case_id', '=', claim.id).execute();
    expect(audit.map((entry) => [entry.action, entry.actor, entry.actor_role])).toEqual([['evidence.uploaded', 'service_desk user', 'service_desk']]);
    expect(heard).toContainEqual({ caseId: claim.id, caseKind: 'goods_claim', caseNumber: claim.number, workflowId: claim.workflowId, files: [{ id: file.id, item: 'photos of the damaged item' }] });
    expect(committedWhenHeard).not.toContain(false);
    // Bytes already stored add nothing: the listeners are not told again.
    const heardBefore = heard.length;
    expect((await request(app).post(`/cases/${claim.number}/evidence`).set(desk()).attach('files', png, 'again.png')).status).toBe(201);
    expect(heard).toHaveLength(heardBefore);
  });

  test('JPEG, WebP and PDF are accepted in one request; a PDF has no thumbnail (null, and 404 when asked)', async () => {
    const claim = await createEvidenceCase(database.db);
    const res = await request(app)
      .post(`/cases/${claim.number}/evidence`)
      .set(desk())
      .attach('files', await jpegImage(), 'front.jpg')
      .attach('files', await webpImage(), 'label.webp')
      .attach('files', pdfDocument(1), '申请表.pdf');
    expect(res.status).toBe(201);
    expect(res.body.files.map((file: { sniffedType: string }) => file.sniffedType)).toEqual(['image/jpeg', 'image/webp', 'application/pdf']);
    const pdf = res.body.files[2];
    expect(pdf.fileName).toBe('申请表.pdf');
    expect(pdf.thumbnailUrl).toBeNull();
    expect((await request(app).get(`/evidence/${pdf.id}/thumbnail`).set(desk())).status).toBe(404);
    const rows = await rowsOf(claim.id);
    expect(rows.map((row) => row.thumbnail === null)).toEqual([false, false, true]);
  });

  test('an executable named .jpg is refused 415 naming the file and what its bytes are; an ELF binary too; nothing is stored', async () => {
    const claim = await createEvidenceCase(database.db);
    const exe = await request(app).post(`/cases/${claim.number}/evidence`).set(desk()).attach('files', windowsExecutable(), { filename: 'photo.jpg', contentType: 'image/jpeg' });
    expect(exe.status).toBe(415);
    expect(exe.body.error.code).toBe('unsupported_file_type');
    expect(exe.body.error.message).toContain('files[0] ("photo.jpg")');
    expect(exe.body.error.message).toContain('application/x-msdownload');
    expect(exe.body.error.details).toEqual([expect.objectContaining({ field: 'files[0]', fileName: 'photo.jpg', detectedType: 'application/x-msdownload' })]);

    const elf = await request(app).post(`/cases/${claim.number}/evidence`).set(desk()).attach('files', linuxExecutable(), 'box.jpg');
    expect(elf.status).toBe(415);
    expect(elf.body.error.message).toContain('files[0] ("box.jpg") is of no recognised type by its bytes');

    // A PNG signature followed by garbage: the bytes claim an image that cannot be read.
    const fake = Buffer.concat([(await pngImage(5)).subarray(0, 40), Buffer.alloc(400, 7)]);
    const unreadable = await request(app).post(`/cases/${claim.number}/evidence`).set(desk()).attach('files', fake, 'broken.png');
    expect(unreadable.status).toBe(422);
    expect(unreadable.body.error.code).toBe('unreadable_image');
    expect(unreadable.body.error.message).toContain('files[0] ("broken.png") starts like a PNG image but cannot be read as one');
    expect(await rowsOf(claim.id)).toHaveLength(0);
  });

  test('an 11 MB file is refused 413 naming it, never a 500; nothing of the request is stored', async () => {
    const claim = await createEvidenceCase(database.db);
    const big = Buffer.concat([await pngImage(10), Buffer.alloc(11 * 1024 * 1024)]);
    const res = await request(app)
      .post(`/cases/${claim.number}/evidence`)
      .set(desk())
      .attach('files', await pngImage(11), 'small.png')
      .attach('files', big, 'huge-photo.png');
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('file_too_large');
    expect(res.body.error.message).toContain('files[1] ("huge-photo.png") is larger than 10 MB');
    expect(await rowsOf(claim.id)).toHaveLength(0);
  });

  test('one bad file among three: nothing is stored, the error names that file', async () => {
    const claim = await createEvidenceCase(database.db);
    const res = await request(app)
      .post(`/cases/${claim.number}/evidence`)
      .set(desk())
      .attach('files', await pngImage(30), 'one.png')
      .attach('files', Buffer.from('just some text, not a picture'), 'two.png')
      .attach('files', pdfDocument(2), 'three.pdf');
    expect(res.status).toBe(415);
    expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'files[1]', fileName: 'two.png' })]);
    expect(res.body.error.message).toContain('Nothing was stored');
    expect(await rowsOf(claim.id)).toHaveLength(0);
    expect(await database.db.selectFrom('audit_events').select('id').where('case_id', '=', claim.id).execute()).toHaveLength(0);
  });

  test('the same bytes uploaded twice (and twice in one request) are one row: the second answer is the first row', async () => {
    const claim = await createEvidenceCase(database.db);
    const png = await pngImage(40);
    const first = await request(app).post(`/cases/${claim.number}/evidence`).set(desk()).attach('files', png, 'a.png').attach('files', png, 'a-again.png');
    expect(first.status).toBe(201);
    expect(first.body.files[1].id).toBe(first.body.files[0].id);
    const second = await request(app).post(`/cases/${claim.number}/evidence`).set(bearer(tokens.engineer)).attach('files', png, 'renamed.png');
    expect(second.status).toBe(201);
    expect(second.body.files[0]).toMatchObject({ id: first.body.files[0].id, fileName: 'a.png', uploadedByRole: 'service_desk' });
    expect(await rowsOf(claim.id)).toHaveLength(1);
  });

  test('a case holds 30 files: the 31st is refused 422 naming it, in its own request or within one', async () => {
    const claim = await createEvidenceCase(database.db);
    let upload = request(app).post(`/cases/${claim.number}/evidence`).set(desk());
    for (let n = 1; n <= 29; n += 1) upload = upload.attach('files', pdfDocument(1000 + n), `page-${n}.pdf`);
    expect((await upload).status).toBe(201);

    const overflowing = await request(app)
      .post(`/cases/${claim.number}/evidence`)
      .set(desk())
      .attach('files', pdfDocument(1030), 'page-30.pdf')
      .attach('files', pdfDocument(1031), 'page-31.pdf');
    expect(overflowing.status).toBe(422);
    expect(overflowing.body.error.code).toBe('too_many_files');
    expect(overflowing.body.error.message).toContain('files[1] ("page-31.pdf") would be file 31');
    expect(await rowsOf(claim.id)).toHaveLength(29);

    expect((await request(app).post(`/cases/${claim.number}/evidence`).set(desk()).attach('files', pdfDocument(1030), 'page-30.pdf')).status).toBe(201);
    const thirtyFirst = await request(app).post(`/cases/${claim.number}/evidence`).set(desk()).attach('files', pdfDocument(1031), 'page-31.pdf');
    expect(thirtyFirst.status).toBe(422);
    expect(thirtyFirst.body.error.details).toEqual([expect.objectContaining({ field: 'files[0]', fileName: 'page-31.pdf', maxFiles: 30 })]);
    // Bytes the case already holds are still answered: they are not a 31st file.
    expect((await request(app).post(`/cases/${claim.number}/evidence`).set(desk()).attach('files', pdfDocument(1001), 'again.pdf')).status).toBe(201);
    expect(await rowsOf(claim.id)).toHaveLength(30);
  });

  test('two uploads at once to a case with 29 files: one is stored, the other is the 31st and refused', async () => {
    const claim = await createEvidenceCase(database.db);
    let upload = request(app).post(`/cases/${claim.number}/evidence`).set(desk());
    for (let n = 1; n <= 29; n += 1) upload = upload.attach('files', pdfDocument(2000 + n), `page-${n}.pdf`);
    expect((await upload).status).toBe(201);
    const racing = await Promise.all([
      request(app).post(`/cases/${claim.number}/evidence`).set(desk()).attach('files', pdfDocument(2100), 'left.pdf'),
      request(app).post(`/cases/${claim.number}/evidence`).set(desk()).attach('files', pdfDocument(2101), 'right.pdf'),
    ]);
    expect(racing.map((res) => res.status).sort()).toEqual([201, 422]);
    expect(await rowsOf(claim.id)).toHaveLength(30);
  });

  test('downloads: 401 JSON without credentials, 403 for a role without access to upload; staff get the bytes as their sniffed type, as an attachment, nosniff, ETag from the sha256, 304 when current', async () => {
    const claim = await createEvidenceCase(database.db);
    const png = await pngImage(50);
    const res = await request(app).post(`/cases/${claim.number}/evidence`).set(desk()).attach('files', png, { filename: '损坏 photo.pdf', contentType: 'application/pdf' });
    const file = res.body.files[0];

    const anonymous = await request(app).get(`/evidence/${file.id}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['content-type']).toMatch(/^application\/json/);
    expect(anonymous.body.error.code).toBe('unauthenticated');
    expect((await request(app).get(`/evidence/${file.id}/thumbnail`)).status).toBe(401);
    expect((await request(app).get(`/cases/${claim.number}/evidence`)).status).toBe(401);
    expect((await request(app).post(`/cases/${claim.number}/evidence`).set(bearer(tokens.billing)).attach('files', png, 'x.png')).status).toBe(403);

    const download = await request(app).get(`/evidence/${file.id}`).set(bearer(tokens.billing)).buffer(true).parse(binary);
    expect(download.status).toBe(200);
    expect(download.headers['content-type']).toBe('image/png');
    expect(download.headers['x-content-type-options']).toBe('nosniff');
    expect(download.headers['content-disposition']).toBe(`attachment; filename="?? photo.pdf"; filename*=UTF-8''%E6%8D%9F%E5%9D%8F%20photo.pdf`);
    expect(download.headers.etag).toBe(`"${sha256(png)}"`);
    expect(sha256(download.body as Buffer)).toBe(sha256(png));
    expect((await request(app).get(`/evidence/${file.id}`).set(bearer(tokens.rd_reviewer)).set('If-None-Match', `"${sha256(png)}"`)).status).toBe(304);

    const list = await request(app).get(`/cases/${claim.number}/evidence`).set(bearer(tokens.rd_reviewer));
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ caseNumber: claim.number, maxFiles: 30, files: [{ id: file.id, sniffedType: 'image/png' }] });
    expect((await request(app).get('/evidence/7b0f6f6e-1111-4c1c-9a55-000000000000').set(desk())).status).toBe(404);
    expect((await request(app).post('/cases/NO-SUCH-CASE/evidence').set(desk()).attach('files', png, 'x.png')).status).toBe(404);
  });

  test("link holders upload, list and download the evidence of their link's case (as the contact, role customer); another case's link, an action without evidence and an expired link are refused", async () => {
    const claim = await createEvidenceCase(database.db);
    const other = await createEvidenceCase(database.db);
    const link = linkFor(claim.id);
    const uploaded = await request(app).post(`${link}/evidence`).field('item', 'packaging photos').attach('files', await jpegImage(), 'box.jpg');
    expect(uploaded.status).toBe(201);
    const file = uploaded.body.files[0];
    expect(file).toMatchObject({ uploadedBy: 'Li Lei', uploadedByRole: 'customer', item: 'packaging photos', url: `${link}/evidence/${file.id}`, thumbnailUrl: `${link}/evidence/${file.id}/thumbnail` });

    const listed = await request(app).get(`${link}/evidence`);
    expect(listed.status).toBe(200);
    expect(listed.body.files.map((listedFile: { id: string }) => listedFile.id)).toEqual([file.id]);
    const download = await request(app).get(`${link}/evidence/${file.id}`).buffer(true).parse(binary);
    expect(download.status).toBe(200);
    expect(download.headers['content-type']).toBe('image/jpeg');
    expect((await request(app).get(`${link}/evidence/${file.id}/thumbnail`)).headers['content-type']).toBe('image/webp');

    const otherLink = linkFor(other.id);
    const foreign = await request(app).get(`${otherLink}/evidence/${file.id}`);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('not_found');
    expect((await request(app).get(`${otherLink}/evidence/${file.id}/thumbnail`)).status).toBe(404);

    const withoutEvidence = linkFor(claim.id, NO_EVIDENCE_TEST_ACTION);
    expect((await request(app).get(`${withoutEvidence}/evidence/${file.id}`)).status).toBe(401);
    const refusedUpload = await request(app).post(`${withoutEvidence}/evidence`).attach('files', await pngImage(60), 'x.png');
    expect(refusedUpload.status).toBe(401);
    expect(refusedUpload.body.error.code).toBe('link_invalid');

    const expired = testSignedLinks(() => new Date(Date.now() - 48 * 3_600_000)).issue({ caseId: claim.id, action: EVIDENCE_TEST_ACTION, singleUse: false });
    const gone = await request(app).get(`/links/${expired.token}/evidence/${file.id}`);
    expect(gone.status).toBe(410);
    expect(gone.body.error.code).toBe('link_expired');
    expect((await request(app).get(`/links/not-a-token/evidence/${file.id}`)).status).toBe(401);
  });

  test('Idempotency-Key: a retry with the same files replays the first answer and stores nothing more; the same key with other files is a 422', async () => {
    const claim = await createEvidenceCase(database.db);
    const png = await pngImage(70);
    const send = (bytes: Buffer) => request(app).post(`/cases/${claim.number}/evidence`).set(desk()).set('Idempotency-Key', `evidence-${claim.number}`).field('item', 'photos').attach('files', bytes, 'p.png');
    const first = await send(png);
    expect(first.status).toBe(201);
    const retry = await send(png);
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    const reused = await send(await pngImage(71));
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe('idempotency_key_reused');
    expect(await rowsOf(claim.id)).toHaveLength(1);
    expect(await database.db.selectFrom('audit_events').select('id').where('case_id', '=', claim.id).execute()).toHaveLength(1);
  });

  test('bad requests are 4xx of the error model: not multipart (415), no file (400), a file under another field (400), an item over 200 characters (400)', async () => {
    const claim = await createEvidenceCase(database.db);
    const json = await request(app).post(`/cases/${claim.number}/evidence`).set(desk()).send({ files: [] });
    expect(json.status).toBe(415);
    expect(json.body.error.code).toBe('unsupported_media_type');
    const none = await request(app).post(`/cases/${claim.number}/evidence`).set(desk()).field('item', 'photos');
    expect(none.status).toBe(400);
    expect(none.body.error.details).toEqual([expect.objectContaining({ field: 'files', message: 'at least one file is required' })]);
    const wrongField = await request(app).post(`/cases/${claim.number}/evidence`).set(desk()).attach('photo', await pngImage(80), 'x.png');
    expect(wrongField.status).toBe(400);
    expect(wrongField.body.error.details[0].field).toBe('photo');
    const longItem = await request(app).post(`/cases/${claim.number}/evidence`).set(desk()).field('item', 'x'.repeat(201)).attach('files', await pngImage(81), 'x.png');
    expect(longItem.status).toBe(400);
    expect(longItem.body.error.details[0].field).toBe('item');
    expect(await rowsOf(claim.id)).toHaveLength(0);
  });

  test('the OpenAPI document describes the upload as multipart/form-data with a repeatable binary file field and the downloads by media type', async () => {
    const document = (await request(app).get('/openapi.json')).body;
    const upload = document.paths['/cases/{caseNumber}/evidence'].post;
    const schema = upload.requestBody.content['multipart/form-data'].schema;
    expect(schema.properties.files).toMatchObject({ type: 'array', maxItems: 31, items: { type: 'string', contentMediaType: 'application/octet-stream' } });
    expect(schema.properties.item).toMatchObject({ type: 'string', maxLength: 200 });
    expect(Object.keys(upload.responses)).toEqual(expect.arrayContaining(['201', '401', '403', '413', '415', '422']));
    expect(upload.responses['413'].description).toContain('10 MB');
    expect(Object.keys(document.paths['/evidence/{id}'].get.responses['200'].content)).toEqual(['image/jpeg', 'image/png', 'image/webp', 'application/pdf']);
    expect(document.paths['/links/{token}/evidence'].post.requestBody.content['multipart/form-data']).toBeDefined();
  });
});

describe('the evidence widget on a customer page (HTML, without a browser)', () => {
  let database: TestDatabase;
  let app: ReturnType<typeof createTestApp>;
  const links = testSignedLinks();

  beforeAll(async () => {
    database = await createTestDatabase();
    app = createTestApp(database.db, { links, linkActions: evidenceTestLinkActions() });
  });
  afterAll(() => database.drop());

  test('the page of an action with evidence shows the widget, allows only its own script by nonce, and a plain form POST without the page nonce is refused 403 with nothing stored', async () => {
    const claim = await createEvidenceCase(database.db);
    const link = `/links/${links.issue({ caseId: claim.id, action: EVIDENCE_TEST_ACTION, singleUse: false }).token}`;
    const page = await request(app).get(link).set('Accept', 'text/html');
    expect(page.status).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    const scriptNonce = /script-src 'nonce-([\w-]+)'/.exec(csp)?.[1];
    expect(scriptNonce).toBeDefined();
    expect(csp).toContain("connect-src 'self'");
    expect(page.text).toContain(`<script nonce="${scriptNonce}">`);
    expect(page.text).toContain(`<form method="post" action="${link}/evidence" enctype="multipart/form-data"`);
    expect(page.text).toContain('<option value="packaging photos">Photos of all six sides of the packaging</option>');

    const forged = await request(app).post(`${link}/evidence`).set('Accept', 'text/html').field('_nonce', 'x.y').attach('files', await pngImage(99), 'a.png');
    expect(forged.status).toBe(403);
    expect(forged.headers['content-type']).toMatch(/^text\/html/);
    expect(await database.db.selectFrom('evidence_files').select('id').where('case_id', '=', claim.id).execute()).toHaveLength(0);

  });
});
