/** The largest file, in MiB, the zoo keeps for the model `name` (12 Large, 16 FC-3, 1.2 others), and for what kind. */
export declare function zooSizeLimit(name: string): { limitMiB: number; kind: string };
