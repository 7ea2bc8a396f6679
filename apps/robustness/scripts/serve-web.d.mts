/** Serves the files under `root` on 127.0.0.1 with COOP/COEP headers (`port` 0 picks a free one). */
export declare function serveDirectory(root: string, port?: number): Promise<{ origin: string; close: () => Promise<void> }>;
