import { type ActionSpec } from './door.js';
type Loader = () => Promise<{
    default: ActionSpec;
}>;
export declare const actions: Readonly<Record<string, Loader>>;
export declare function run(name: string): Promise<void>;
export {};
//# sourceMappingURL=index.d.ts.map