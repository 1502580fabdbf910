import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // The property tests run hundreds of cases; on a loaded 2-core machine one took 5.03 s against
          // vitest's default 5 s. A hang still fails, at 30 s.
          testTimeout: 30_000,
        },
      },
      {
        // Each guest test file boots a real Debian kernel with IPVS under QEMU (software emulation).
        test: {
          name: 'guest',
          include: ['test/guest/**/*.test.ts'],
          environment: 'node',
          testTimeout: 600_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
