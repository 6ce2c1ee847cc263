# One image for both production processes: `npm run api` and `npm run worker`.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY tsconfig.json ./
COPY workflows ./workflows
COPY activities ./activities
COPY api ./api
COPY worker ./worker
COPY db ./db
USER node
EXPOSE 3000
CMD ["npm", "run", "api"]
