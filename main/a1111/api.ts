// The AUTOMATIC1111-compatible API: /sdapi/v1/* on the studio's HTTP server. txt2img requests
// become jobs in the studio's own queue (origin 'a1111'), wait their turn behind the studio's
// jobs, land in the same history, and come back as the saved PNGs with their A1111 text.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { z } from 'zod';
import type { InstalledModel, Settings } from '../contract/api.ts';
import type { HistoryItem } from '../history/index.ts';
import type { EnqueueAndWaitOptions, FinishedJobs } from '../jobs/enqueue-and-wait.ts';
import type { GenerationRequest } from '../contract/generation.ts';
import { checkBasicAuth, type ApiCredentials } from './auth.ts';
import { sameOrigin } from '../server/auth.ts';
import { applyCors, originAllowed } from './cors.ts';
import { A1111HttpError, A1111ValidationError, toValidationIssues } from './errors.ts';
import { sendJson } from '../server/http-util.ts';
import { BODY_LIMITS, readJson, sendError } from './http.ts';
import { buildInfo, echoParameters } from './info.ts';
import { a1111Name, findModel, namesOf } from './model-names.ts';
import { readPngInfo } from './png-info.ts';
import { ProgressTracker, type QueueView, type TrackedRequest } from './progress.ts';
import { resolveSampler, SAMPLERS } from './samplers.ts';
import { OptionsPatch, PngInfoRequest, Txt2ImgRequest, type LoraItem, type SdModelItem } from './schemas.ts';
import { planTxt2Img } from './txt2img-plan.ts';

/** What the API needs from the studio (createStudio's Studio provides all of it). */
export interface A1111Deps {
  queue: QueueView;
  /** Queues jobs with origin 'a1111' and waits for their saved images (the studio's enqueueAndWait). */
  enqueueAndWait(requests: GenerationRequest[], options: EnqueueAndWaitOptions): Promise<FinishedJobs>;
  listModels(): Promise<InstalledModel[]>;
  settings(): Promise<Settings>;
  /** The saved PNG of a history item. */
  readImage(item: HistoryItem): Promise<Uint8Array>;
  /** Expands one request into n_iter jobs: seed, seed + batch_size, … */
  expand(request: GenerationRequest, count: number): GenerationRequest[];
  modelsDir: string;
}

export interface A1111Options {
  /** `--api-auth`: when set, every /sdapi route asks for one of these (A1111's behaviour). */
  credentials: ApiCredentials | null;
  /** `--cors-allow-origins`: origins whose pages may call /sdapi (default none). */
  corsOrigins?: readonly string[];
}

export const A1111_PREFIX = '/sdapi/v1/';

type Route = (req: IncomingMessage, res: ServerResponse) => Promise<unknown>;

export interface A1111Api {
  /** Answers /sdapi/v1/* and returns true; returns false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
  readonly progress: ProgressTracker;
}

function validate<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value, { reportInput: true });
  if (!result.success) throw new A1111ValidationError(toValidationIssues(result.error.issues));
  return result.data;
}

const asRecord = (value: unknown): Record<string, unknown> =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

export function createA1111Api(deps: A1111Deps, options: A1111Options): A1111Api {
  const progress = new ProgressTracker(deps.queue);
  /** options.sd_model_checkpoint: null follows the studio's default base model. */
  let checkpoint: string | null = null;
  /** Other options clients set; kept and read back as A1111 does, but they change nothing here. */
  const storedOptions: Record<string, unknown> = {};

  async function currentCheckpoint(models: InstalledModel[]): Promise<InstalledModel | null> {
    const wanted = checkpoint ?? (await deps.settings()).defaultBaseModelId;
    return (wanted ? findModel(models, 'base', wanted) : null) ?? models.find((m) => m.kind === 'base') ?? null;
  }

  async function txt2img(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    // A client that hangs up does not want its images: from the first byte on, its jobs (and only
    // its jobs) are cancelled, also when it goes before they are queued.
    const hangUp = new AbortController();
    const abandon = () => {
      if (!res.writableEnded) hangUp.abort();
    };
    res.once('close', abandon);
    try {
      return await runTxt2Img(req, hangUp.signal);
    } finally {
      res.off('close', abandon);
    }
  }

  async function runTxt2Img(req: IncomingMessage, signal: AbortSignal): Promise<unknown> {
    const raw = await readJson(req, BODY_LIMITS.json);
    // The sampler first: clients default to "Euler a" (and 20 steps); the sampler is what to fix.
    const { sampler_name: samplerName, sampler_index: samplerIndex } = asRecord(raw);
    const sampler = samplerName ?? samplerIndex;
    if (typeof sampler === 'string') resolveSampler(sampler);
    const body = validate(Txt2ImgRequest, raw);
    const [models, settings] = await Promise.all([deps.listModels(), deps.settings()]);
    const current = await currentCheckpoint(models);
    const plan = planTxt2Img(body, { models, checkpoint: current?.id ?? null, defaultLoraId: settings.defaultLoraId });
    if (plan.keepCheckpoint) checkpoint = plan.keepCheckpoint;
    const startedAt = new Date();
    let tracked: TrackedRequest | null = null;
    let finished: FinishedJobs;
    try {
      finished = await deps.enqueueAndWait(deps.expand(plan.request, plan.count), {
        signal,
        onQueued: (jobs) => (tracked = progress.track(jobs.map((job) => job.id))),
      });
    } finally {
      if (tracked) progress.untrack(tracked);
    }
    const failed = finished.jobs.find((job) => job.state === 'failed');
    if (failed) throw new A1111HttpError(500, failed.error ?? 'generation failed', 'RuntimeError');
    const pngs = await Promise.all(finished.items.map((item) => deps.readImage(item)));
    const infos = pngs.map((png) => readPngInfo(png));
    const info = buildInfo({ plan, infotexts: infos.map((i) => i.info), params: infos[0]?.parameters ?? {}, startedAt });
    const send = body.send_images ?? true;
    return {
      images: send ? pngs.map((png) => Buffer.from(png).toString('base64')) : [],
      parameters: echoParameters(asRecord(raw), body),
      info,
    };
  }

  async function sdModels(): Promise<SdModelItem[]> {
    const models = await deps.listModels();
    return models
      .filter((m) => m.kind === 'base')
      .map((m) => ({ title: m.id, model_name: m.id, hash: null, sha256: null, filename: join(deps.modelsDir, m.path), config: null }));
  }

  async function loras(): Promise<LoraItem[]> {
    const models = await deps.listModels();
    return models
      .filter((m) => m.kind === 'lora')
      .map((m) => ({ name: a1111Name(m), alias: a1111Name(m), path: join(deps.modelsDir, m.path), metadata: {} }));
  }

  async function getOptions(): Promise<Record<string, unknown>> {
    const current = await currentCheckpoint(await deps.listModels());
    return {
      samples_format: 'png',
      sd_vae: 'Automatic',
      CLIP_stop_at_last_layers: 1,
      eta_noise_seed_delta: 0,
      sd_lora: 'None',
      enable_pnginfo: true,
      ...storedOptions,
      sd_model_checkpoint: current?.id ?? null,
      sd_checkpoint_hash: null,
    };
  }

  async function setOptions(req: IncomingMessage): Promise<null> {
    const patch = validate(OptionsPatch, await readJson(req, BODY_LIMITS.json));
    const { sd_model_checkpoint: wanted, ...rest } = patch;
    if (wanted !== undefined && wanted !== null) {
      if (typeof wanted !== 'string') {
        throw new A1111ValidationError([{ loc: ['body', 'sd_model_checkpoint'], msg: 'str type expected', type: 'type_error.str' }]);
      }
      const models = await deps.listModels();
      const model = findModel(models, 'base', wanted);
      if (!model) throw new A1111HttpError(404, `model "${wanted}" not found. Installed models: ${namesOf(models, 'base')}`, 'RuntimeError');
      checkpoint = model.id;
    }
    Object.assign(storedOptions, rest);
    return null;
  }

  async function pngInfo(req: IncomingMessage): Promise<unknown> {
    const body = validate(PngInfoRequest, await readJson(req, BODY_LIMITS.pngInfo));
    const encoded = body.image.trim().replace(/^data:image\/[\w.+-]+;base64,/, '');
    return readPngInfo(new Uint8Array(Buffer.from(encoded, 'base64')));
  }

  const empty = async () => [];
  const ok = async () => ({});
  const notHere = (what: string) => async () => {
    throw new A1111HttpError(501, `${what} is not available in YOSO Studio (text-to-image only)`);
  };

  const routes: Record<string, Partial<Record<'GET' | 'POST', Route>>> = {
    txt2img: { POST: txt2img },
    img2img: { POST: notHere('img2img') },
    'extra-single-image': { POST: notHere('upscaling') },
    'extra-batch-images': { POST: notHere('upscaling') },
    interrogate: { POST: notHere('interrogate') },
    'png-info': { POST: pngInfo },
    progress: { GET: async () => progress.progress() },
    interrupt: { POST: async () => (progress.interrupt(), {}) },
    skip: { POST: async () => (progress.skip(), {}) },
    options: { GET: getOptions, POST: setOptions },
    'cmd-flags': { GET: async () => ({ api: true, api_auth: options.credentials ? '***' : null, nowebui: false }) },
    samplers: { GET: async () => SAMPLERS },
    schedulers: { GET: async () => [{ name: 'automatic', label: 'Automatic', aliases: null, default_rho: -1, need_inner_model: false }] },
    'sd-models': { GET: sdModels },
    loras: { GET: loras },
    'refresh-checkpoints': { POST: ok },
    'refresh-loras': { POST: ok },
    'refresh-vae': { POST: ok },
    'sd-vae': { GET: empty },
    upscalers: { GET: async () => [{ name: 'None', model_name: null, model_path: null, model_url: null, scale: 4 }] },
    'latent-upscale-modes': { GET: empty },
    hypernetworks: { GET: empty },
    'face-restorers': { GET: empty },
    'realesrgan-models': { GET: empty },
    'prompt-styles': { GET: empty },
    embeddings: { GET: async () => ({ loaded: {}, skipped: {} }) },
    scripts: { GET: async () => ({ txt2img: [], img2img: [] }) },
    'script-info': { GET: empty },
    extensions: { GET: empty },
  };

  return {
    progress,
    async handle(req, res, url) {
      if (!url.pathname.startsWith(A1111_PREFIX)) return false;
      // The preflight carries no credentials: it is answered before the auth check, as FastAPI does.
      if (applyCors(options.corsOrigins ?? [], req, res)) return true;
      // A page on another site may not drive the API through the user's browser (a simple POST needs no
      // preflight): writes come from scripts (no Origin), our own page, or a --cors-allow-origins origin.
      if (req.method !== 'GET' && !sameOrigin(req) && !originAllowed(options.corsOrigins ?? [], req.headers.origin)) {
        sendJson(res, 403, { detail: `requests from ${req.headers.origin} are refused; start serve with --cors-allow-origins ${req.headers.origin} to allow that page` });
        return true;
      }
      try {
        if (options.credentials) checkBasicAuth(options.credentials, req.headers.authorization);
        const methods = routes[url.pathname.slice(A1111_PREFIX.length)];
        if (!methods) {
          sendJson(res, 404, { detail: 'Not Found' });
          return true;
        }
        const route = methods[req.method as 'GET' | 'POST'];
        if (!route) {
          sendJson(res, 405, { detail: 'Method Not Allowed' }, { Allow: Object.keys(methods).join(', ') });
          return true;
        }
        sendJson(res, 200, await route(req, res));
      } catch (error) {
        sendError(res, error);
      }
      return true;
    },
  };
}
