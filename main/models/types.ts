// The model library's public types: what the server, the app and the CLI see. The shapes that
// cross to the renderer (InstalledModel, CatalogEntry, DownloadState) come from the contract;
// this file adds what only the main side needs (file-level progress, ETA, removal hooks).
import type { CatalogEntry, DownloadState, InstalledModel } from '../contract/api.ts';

export type { CatalogEntry, DownloadState, InstalledModel };

/** Where files come from. Defaults: HF_ENDPOINT or https://huggingface.co, HF_TOKEN. */
export interface HubOptions {
  endpoint: string;
  token: string | null;
}

export interface RetryOptions {
  /** Attempts per file after a dropped connection, a timeout or a 5xx (not after 401/403/404). */
  attempts: number;
  /** First wait; doubles each attempt (with jitter), capped at 30 s. */
  baseDelayMs: number;
}

export interface ModelLibraryOptions {
  /** The models folder. Partial downloads live in `<modelsDir>/.downloads/` (never listed). */
  modelsDir: string;
  /** Path of the catalog JSON; defaults to resources/catalog.json. */
  catalogPath?: string;
  hub?: Partial<HubOptions>;
  retry?: Partial<RetryOptions>;
  /** Files downloaded at once within one pull. Default 3. */
  concurrentFiles?: number;
  /** Idle socket timeout before a download counts as dropped (and is retried). Default 60 s. */
  stallTimeoutMs?: number;
  /**
   * Free bytes in a folder; defaults to statfs. Replaceable because a full disk cannot be made
   * in a test.
   */
  freeBytes?: (dir: string) => Promise<number>;
  /**
   * Reads an ONNX model's signature for import checks. Default: inspectOnnxModel in this process
   * (fine for the CLI and `serve`); the Electron app passes one that asks the inference process,
   * since session creation is synchronous native work.
   */
  inspectOnnx?: (modelPath: string) => Promise<import('../../native-models/src/onnx/inspect.ts').OnnxSignature>;
}

/** What to pull: a catalog id, or a Hub repo (with optional revision and file list). */
export type PullRequest =
  | { catalogId: string }
  | {
      repo: string;
      revision?: string;
      /** Paths inside the repo; empty = the standard ONNX pipeline files the repo has. */
      files?: string[];
      /** Id in the models folder; default derived from the repo name. */
      id?: string;
      kind?: import('../contract/api.ts').ModelKind;
    };

export interface FileProgress {
  path: string;
  receivedBytes: number;
  totalBytes: number | null;
  state: 'queued' | 'downloading' | 'verifying' | 'done' | 'failed';
}

/** DownloadState (contract) plus what a progress bar needs. */
export interface PullProgress extends DownloadState {
  /** Seconds left at the current speed; null until a speed is known. */
  etaSeconds: number | null;
  /** Bytes that were already on disk when this run started (a resume) and were not fetched again. */
  resumedBytes: number;
  files: FileProgress[];
}

export interface PullHandle {
  /** Download id (= the model id it installs). */
  readonly id: string;
  /** Resolves with the installed model; rejects with a PullError on failure or cancel. */
  readonly done: Promise<InstalledModel>;
  /** Stops transfers and keeps the partial files (also across an app restart). */
  pause(): void;
  /** Continues a paused pull where it stopped (HTTP Range). */
  resume(): void;
  /** Stops transfers and deletes the partial files. */
  cancel(): void;
  progress(): PullProgress;
  /** Resolves once no transfer of this pull is writing (after a pause, a cancel or the end). */
  idle(): Promise<void>;
}

export type PullErrorCode =
  | 'not_found'
  | 'unauthorized'
  | 'checksum'
  | 'disk_full'
  | 'network'
  | 'cancelled'
  | 'invalid'
  /** Another process is downloading the same model. */
  | 'busy';

export class PullError extends Error {
  constructor(
    readonly code: PullErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PullError';
  }
}

/** Thrown by import when a folder or file is not what the pipeline needs; message names what. */
export class ImportError extends Error {
  constructor(
    message: string,
    readonly problems: string[] = [message],
  ) {
    super(message);
    this.name = 'ImportError';
  }
}

export interface ImportOptions {
  /** Id in the models folder; default: folder name / file name without extension. */
  id?: string;
  /** Display name; default: the id. */
  name?: string;
  /** Replace an installed model with the same id. */
  replace?: boolean;
  /**
   * CLIP tokenizer folder for single-file checkpoints (they carry none); default: the shared copy in
   * the models folder, downloaded from the Hub with the first checkpoint import.
   */
  tokenizer?: string;
  /** Told what the import does beyond copying (e.g. the one-time tokenizer download); for a CLI line. */
  onNote?: (message: string) => void;
  /** Folder with config.json files, for checkpoints whose widths are not SD 1.5's (tests). */
  config?: string;
}

export interface RemoveOptions {
  /** The caller asked the user; without `true` nothing is deleted. */
  confirm: true;
}

/**
 * Called before a model's files are deleted so the inference side can release its sessions
 * (ONNX Runtime keeps files mapped on some platforms). Deletion waits for the returned promise.
 */
export type BeforeRemoveHook = (model: InstalledModel) => void | Promise<void>;
