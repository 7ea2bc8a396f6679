/** The app's directory (apps/robustness). */
export declare const APP_DIR: string;
/** Files of the MNIST subsets written under `data/`. */
export declare const WEB_DATA_FILES: { testImages: string; testLabels: string; trainImages: string; trainLabels: string };
/** The first `count` records of an uncompressed IDX file, with dimension 0 of the header set to `count`. */
export declare function idxPrefix(bytes: Uint8Array, count: number): Uint8Array;
/** Builds the page into `outDir` (default `dist/web`); returns the directory. */
export declare function buildWeb(options?: { outDir?: string; testCount?: number; trainCount?: number; minify?: boolean }): Promise<string>;
