"""Every operation through the client openapi-python-client generated from
the served description (scripts/client-check.sh): each call must succeed and
give the typed answer, never an Error or None."""

import io
import struct
import sys
import zlib

from mannequin_client import AuthenticatedClient
from mannequin_client.types import File
from mannequin_client.api.batches import batch_events, cancel_batch, get_batch, get_order
from mannequin_client.api.credits_ import get_credits, get_ledger
from mannequin_client.api.models import cancel_model, get_model, list_models, register_ideas, vote_model
from mannequin_client.api.packshots import (
    cancel_packshot,
    get_packshot,
    list_packshots,
    register_packshot_ideas,
    vote_packshot,
)
from mannequin_client.api.photo_shoots import cancel_image, get_image, list_images, register_image_ideas, vote_image
from mannequin_client.api.presets import create_preset, delete_preset, get_preset, list_presets
from mannequin_client.api.products import delete_product, get_product, list_products, upload_product
from mannequin_client.api.sceneries import (
    cancel_scenery,
    get_scenery,
    list_sceneries,
    register_scenery_ideas,
    vote_scenery,
)
from mannequin_client.api.webhooks import (
    create_webhook,
    delete_webhook,
    enable_webhook,
    get_webhook,
    list_webhook_deliveries,
    list_webhooks,
)
from mannequin_client.models import (
    Batch,
    BatchStatus,
    Cancelled,
    CreatePreset,
    CreateWebhook,
    Credits,
    Deleted,
    EventType,
    ImageList,
    Ledger,
    ModelDetail,
    ModelList,
    ModelStatus,
    PackshotList,
    PictureConfig,
    Preset,
    PresetCreated,
    PresetList,
    Product,
    ProductList,
    Ref,
    RegisterIdeas,
    RegisterImageIdeas,
    RegisterPackshotIdeas,
    Registered,
    SceneryList,
    StatusFilter,
    UploadProduct,
    Vote,
    Voted,
    Voting,
    Webhook,
    WebhookCreated,
    WebhookDeleted,
    WebhookDeliveries,
    WebhookList,
)

url, key = sys.argv[1], sys.argv[2]
client = AuthenticatedClient(base_url=url, token=key, raise_on_unexpected_status=True)


def ok(value, kind):
    assert isinstance(value, kind), f"expected {kind.__name__}, got {value!r}"
    return value


registered = ok(
    register_ideas.sync(client=client, body=RegisterIdeas(preferences="young female model, for sportswear", count=3)),
    Registered,
)
assert len(registered.created_record_ids) == 3
models = ok(list_models.sync(client=client, batch_id=registered.batch_id), ModelList)
assert models.count == 3 and {m.id for m in models.models} == set(registered.created_record_ids)
assert all(m.status == ModelStatus.PENDING for m in models.models)
first, second = registered.created_record_ids[0], registered.created_record_ids[1]
detail = ok(get_model.sync(first, client=client), ModelDetail)
assert detail.order_id == registered.order_id

batch = ok(get_batch.sync(registered.batch_id, client=client), Batch)
assert batch.status == BatchStatus.PENDING and batch.statuses.pending == 3
order = ok(get_order.sync(registered.order_id, client=client), Batch)
assert order.id == registered.batch_id

voted = ok(vote_model.sync(first, client=client, body=Vote(voting=Voting.APPROVED)), Voted)
assert voted.voting == Voting.APPROVED
approved = ok(list_models.sync(client=client, status_filter=StatusFilter.APPROVED), ModelList)
assert [m.id for m in approved.models] == [first]

cancelled = ok(cancel_model.sync(second, client=client), Cancelled)
assert cancelled.cancelled_record_ids == [second]
rest = ok(cancel_batch.sync(registered.batch_id, client=client), Cancelled)
assert len(rest.cancelled_record_ids) == 2
batch = ok(get_batch.sync(registered.batch_id, client=client), Batch)
assert batch.status == BatchStatus.CANCELLED and batch.finished_at is not None

# Every model is terminal: the live stream tells each state, then ends.
stream = batch_events.sync(registered.batch_id, client=client)
assert isinstance(stream, str) and "event: batch.completed" in stream, stream

credits = ok(get_credits.sync(client=client), Credits)
assert credits.reserved == 0
ledger = ok(get_ledger.sync(client=client, limit=10), Ledger)
assert {e.kind.value for e in ledger.entries} >= {"grant", "reserve", "refund"}

created = ok(
    create_webhook.sync(
        client=client,
        body=CreateWebhook(url="http://127.0.0.1:9/hooks", events=[EventType.MODEL_COMPLETED]),
    ),
    WebhookCreated,
)
assert created.secret.startswith("whsec_")
hooks = ok(list_webhooks.sync(client=client), WebhookList)
assert [h.id for h in hooks.webhooks] == [created.id]
ok(get_webhook.sync(created.id, client=client), Webhook)
ok(enable_webhook.sync(created.id, client=client), Webhook)
deliveries = ok(list_webhook_deliveries.sync(created.id, client=client), WebhookDeliveries)
assert deliveries.count == 0
gone = ok(delete_webhook.sync(created.id, client=client), WebhookDeleted)
assert gone.deleted

# Sceneries: the models' calls under /sceneries.
sceneries = ok(
    register_scenery_ideas.sync(client=client, body=RegisterIdeas(preferences="white studio, seamless paper", count=2)),
    Registered,
)
assert all(i.startswith("scenery_") for i in sceneries.created_record_ids)
listed = ok(list_sceneries.sync(client=client, batch_id=sceneries.batch_id), SceneryList)
assert {s.id for s in listed.sceneries} == set(sceneries.created_record_ids)
one, two = sceneries.created_record_ids
ok(get_scenery.sync(one, client=client), ModelDetail)
ok(vote_scenery.sync(one, client=client, body=Vote(voting=Voting.APPROVED)), Voted)
ok(cancel_scenery.sync(two, client=client), Cancelled)


def png(width, height):
    """A small grey PNG, written by hand."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


# Products: an upload as multipart/form-data, listed, read, deleted.
photo = File(payload=io.BytesIO(png(40, 30)), file_name="Grey Scarf.png", mime_type="image/png")
product = ok(upload_product.sync(client=client, body=UploadProduct(image=photo)), Product)
assert product.name == "Grey Scarf" and product.width == 40, product
products = ok(list_products.sync(client=client), ProductList)
assert [p.id for p in products.products] == [product.id]
ok(get_product.sync(product.id, client=client), Product)

# Photo shoots and packshots of the product: ordered with a config, listed
# by product, read, voted, cancelled.
for register, body_type, listing, kind, key, get, vote, cancel, prefix in [
    (register_image_ideas, RegisterImageIdeas, list_images, ImageList, "images", get_image, vote_image, cancel_image, "img_"),
    (register_packshot_ideas, RegisterPackshotIdeas, list_packshots, PackshotList, "packshots", get_packshot, vote_packshot,
     cancel_packshot, "ps_"),
]:
    body = body_type(config=PictureConfig(product=Ref(id=product.id), suggestions="soft light"), count=2)
    pictures = ok(register.sync(client=client, body=body), Registered)
    assert all(i.startswith(prefix) for i in pictures.created_record_ids), pictures
    page = ok(listing.sync(client=client, product_id=product.id), kind)
    assert {p.id for p in getattr(page, key)} == set(pictures.created_record_ids)
    one, two = pictures.created_record_ids
    ok(get.sync(one, client=client), ModelDetail)
    ok(vote.sync(one, client=client, body=Vote(voting=Voting.APPROVED)), Voted)
    ok(cancel.sync(two, client=client), Cancelled)

ok(delete_product.sync(product.id, client=client), Deleted)

# Presets: the system's listed, one made from a form, read, deleted.
presets = ok(list_presets.sync(client=client, max_records=3), PresetList)
assert presets.count == 3
made = ok(
    create_preset.sync(
        client=client,
        body=CreatePreset(name="Catalogue", quantity_guidelines="Front and back.", quality_guidelines="True colours."),
    ),
    PresetCreated,
)
assert made.success and made.preset_id.startswith("preset_")
ok(get_preset.sync(made.preset_id, client=client), Preset)
ok(delete_preset.sync(made.preset_id, client=client), Deleted)

print("python client: all 40 operations answered as described")
