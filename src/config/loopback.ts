// Kept only for schema.ts's import while another branch edits that file: the helpers live in src/net/host.ts.
// When merged, point schema.ts at '../net/host.ts' and delete this file.
export { isLoopbackHost } from '../net/host.ts'
