import type { CustomizedFiles } from './manifest.ts';

export interface DetectOptions {
  /** A vendor manifest to compare the installation with, instead of the one the profile names. */
  vendorManifest?: string;
}

/** One service of the installation, as its pid file says. */
export interface ServiceState {
  name: string;
  /** The pid file, relative to the installation. */
  pidFile: string;
  /** The pid in the file; null when there is no pid file or it holds no pid. */
  pid: number | null;
  /** True when that process runs and belongs to the installation. */
  running: boolean;
  /** True when a pid file is there but its process is not: a leftover to clean before upgrading. */
  leftover: boolean;
  /** Why a pid file does not mean a running service, when it is not plain. */
  note?: string;
}

/**
 * What detection reports. Open like catalog facts: the profile's settings, derived facts and
 * measures add their own fields (`settings`, `data`, `security`, …).
 */
export interface DetectedFacts {
  product: string;
  version: string;
  platform: { os: string; arch: string; id: string };
  owner: {
    user?: string;
    uid: number;
    gid: number;
    group?: string;
    root: boolean;
    /** Files under the installation owned by another user. */
    foreignFiles: number;
    /** The first few of them. */
    foreignSample?: string[];
  };
  /** Who ran the detection. */
  runningAs: { uid: number; user?: string };
  services: ServiceState[];
  /** Present when a vendor manifest was found. */
  customizedFiles?: CustomizedFiles;
  detection: {
    profile: string;
    /** What detection could not read or had to assume; facts it could not know are absent. */
    warnings: string[];
    /**
     * Facts read or derived through an illustrative profile entry (an assumed file, an invented
     * stock value), with its reason; absent when there are none. A plan marks what rests on them.
     */
    illustrative?: { fact: string; reason: string }[];
    /**
     * Set by `uplift facts`, when the profile declares its facts and a detected fact is outside
     * them: each such fact (undeclared, of the wrong type, or not among the declared values).
     */
    declarationWarnings?: string[];
  };
  [fact: string]: unknown;
}
