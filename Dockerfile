# The moisson image: the workers and the CLI (the browser worker adds Debian's Chromium).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# patches/: fixes to dependencies applied by the postinstall (patch-package) until upstream releases them.
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
USER node
CMD ["node", "--import", "tsx", "workers/main.ts"]
