// Uses the types openapi-typescript generated from the served description
// (scripts/client-check.sh); `tsc --strict` must accept it.
import type { components, operations, paths, webhooks } from "./schema";

type Model = components["schemas"]["Model"];
type Batch = components["schemas"]["Batch"];
type ListAnswer =
  paths["/api/external/models"]["get"]["responses"][200]["content"]["application/json"];
type RegisterBody = NonNullable<
  operations["registerIdeas"]["requestBody"]
>["content"]["application/json"];
type Completed =
  webhooks["model.completed"]["post"]["requestBody"]["content"]["application/json"];

const register: RegisterBody = { preferences: "young female model", count: 4 };

function firstDone(page: ListAnswer): Model | undefined {
  return page.models.find((m) => m.status === "DONE");
}

function finished(batch: Batch): boolean {
  switch (batch.status) {
    case "DONE":
    case "PARTIAL":
    case "FAILED":
    case "CANCELLED":
      return true;
    case "PENDING":
    case "PROCESSING":
      return false;
  }
}

function onCompleted(event: Completed): string {
  return event.data.id + " " + event.type;
}

export { register, firstDone, finished, onCompleted };
