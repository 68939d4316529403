import { componentBase, type EntityNaming } from "./common.ts";
import type { EntityContext, ImageComponent } from "./types.ts";

/** An image entity fed with raw JPEG bytes on `imageTopic`. */
export function jpegImage(
  ctx: EntityContext,
  naming: EntityNaming,
  imageTopic: string,
  jsonAttributesTopic?: string,
): ImageComponent {
  return {
    ...componentBase("image", ctx, naming),
    image_topic: imageTopic,
    content_type: "image/jpeg",
    ...(jsonAttributesTopic === undefined ? {} : { json_attributes_topic: jsonAttributesTopic }),
  };
}
