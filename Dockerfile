# The moisson image: the worker, the browser worker, the API, the CLI and the migrations.
# System tools come from Debian's packages (never downloaded by the app): poppler and tesseract (French,
# Arabic) for PDF notices, Chromium for the browser worker (Playwright drives it through executablePath).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    CHROMIUM_PATH=/usr/bin/chromium \
    PROOF_STORE_DIR=/data/proofs
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      poppler-utils tesseract-ocr tesseract-ocr-fra tesseract-ocr-ara chromium fonts-dejavu-core ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# patches/: fixes to dependencies applied by the postinstall (patch-package) until upstream releases them.
COPY package.json package-lock.json ./
COPY patches ./patches
# Not `npm ci`: the lock file cannot list @swc/core's builds for other platforms (see scripts/test.sh);
# `npm install` follows the same lock file.
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force
COPY . .
# The workflow bundle is built here once: a worker that bundles at start loads webpack and keeps ~180 MB more RSS.
RUN node --import tsx scripts/build-workflows.ts /app/dist/workflow-bundle.js
ENV MOISSON_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
# The worker itself is built here too (scripts/build-worker.ts, esbuild; packages stay in /app/node_modules):
# run by plain node, it has no tsx loader thread, source maps or TypeScript sources in memory (~25 MB less).
# The other processes (browser worker, API, CLI, migrations) still run their sources through tsx.
RUN node --import tsx scripts/build-worker.ts /app/dist/worker-build
# The proof store (raw pages, PDFs) lives on a volume.
RUN mkdir -p /data/proofs && chown -R node:node /data
USER node
# The V8 settings of the local stack's worker (scripts/stack/services.ts, WORKER_NODE_FLAGS).
CMD ["node", "--max-semi-space-size=4", "--expose-gc", "dist/worker-build/main.js"]
