# The moisson image: the workers and the CLI (the browser worker adds Debian's Chromium).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
USER node
CMD ["node", "--import", "tsx", "workers/main.ts"]
