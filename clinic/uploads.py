"""The one check every uploaded image goes through (clinical photos, scanned consent forms, drawn signatures).

An image is judged by its header before a single pixel is decoded: a 47 KiB PNG can claim 20,000 × 20,000
pixels and take a worker half a minute and gigabytes of memory to decode. Pillow's lazy `Image.open` reads the
size; anything over `settings.PHOTO_MAX_PIXELS` (PHOTO_MAX_MEGAPIXELS) is refused with a message for the field,
and Pillow's own decompression-bomb guard is set to the same limit (clinic.apps) for any other code that opens
an image."""

import base64
import binascii
import io
import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image, ImageFile, UnidentifiedImageError

ERR_IMAGE_TYPE = "Upload a JPEG or PNG image."
ERR_IMAGE_PIXELS = (
    "The image is {width:,} × {height:,} pixels ({megapixels:,.1f} megapixels); the largest accepted is "
    "{limit:,} megapixels. Save it at a smaller size and upload it again."
)
ERR_IMAGE_PIXELS_UNKNOWN = (
    "The image has far more than {limit:,} megapixels, the largest accepted. Save it at a smaller size and upload it "
    "again."
)
ERR_IMAGE_BYTES = "The file is larger than {limit_mb} MB."
ERR_DRAWING = "The drawn signature could not be read; clear it and draw it again, or type the signature."

IMAGE_FORMATS = ("JPEG", "PNG")
# What Pillow may raise on a damaged, truncated or lying file (its decoders are not consistent about it).
UNREADABLE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError,
               KeyError, ZeroDivisionError, MemoryError)


def max_pixels() -> int:
    return settings.PHOTO_MAX_MEGAPIXELS * 1_000_000


def _too_many_pixels(width: int, height: int) -> ValidationError:
    return ValidationError(
        ERR_IMAGE_PIXELS.format(width=width, height=height, megapixels=width * height / 1_000_000,
                                limit=settings.PHOTO_MAX_MEGAPIXELS),
        code="image_pixels",
    )


def image_check(upload, *, formats=IMAGE_FORMATS, max_bytes: int | None = None) -> str:
    """The format ("JPEG"/"PNG") of an uploaded image read from its content, or ValidationError.

    Order matters: byte size, then the header's declared pixel count, and only then `verify()` (which reads the
    compressed data without decoding it into pixels). Nothing here decodes the image."""
    size = getattr(upload, "size", None)
    if size is None:
        size = upload.seek(0, io.SEEK_END)
    if max_bytes is not None and size is not None and size > max_bytes:
        raise ValidationError(ERR_IMAGE_BYTES.format(limit_mb=max_bytes // (1024 * 1024)), code="image_bytes")
    if not size:
        raise ValidationError(ERR_IMAGE_TYPE, code="image_type")
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow warns past its MAX_IMAGE_PIXELS (our limit, clinic.apps): the check below says it better, with
            # the image's size. Past twice the limit Pillow raises before we see the size.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(upload, formats=list(formats)) as image:
                image_format = image.format
                width, height = image.size
                if width * height > max_pixels():
                    raise _too_many_pixels(width, height)
                image.verify()
    except ValidationError:
        raise
    except Image.DecompressionBombError as exc:
        raise ValidationError(ERR_IMAGE_PIXELS_UNKNOWN.format(limit=settings.PHOTO_MAX_MEGAPIXELS),
                              code="image_pixels") from exc
    except UNREADABLE_ERRORS as exc:
        raise ValidationError(ERR_IMAGE_TYPE, code="image_type") from exc
    finally:
        upload.seek(0)
    if image_format not in formats:
        raise ValidationError(ERR_IMAGE_TYPE, code="image_type")
    return image_format


def image_decoded(upload) -> Image.Image:
    """The pixels of an upload that passed image_check; a file that fails to decode (truncated after a valid
    header, say) is a ValidationError, not a 500 and not a half-grey clinical photo."""
    upload.seek(0)
    # WeasyPrint sets Pillow's LOAD_TRUNCATED_IMAGES for the whole process when imported; an upload must decode
    # completely, so it is off while we load. (Our PDFs embed only our own, complete images.)
    truncated_ok, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # A copy of the bytes (uploads are a few MB at most): closing the image must not close the upload.
            image = Image.open(io.BytesIO(upload.read()), formats=list(IMAGE_FORMATS))
            if image.width * image.height > max_pixels():  # never decode what image_check would refuse
                raise _too_many_pixels(image.width, image.height)
            image.load()
            return image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValidationError(ERR_IMAGE_PIXELS_UNKNOWN.format(limit=settings.PHOTO_MAX_MEGAPIXELS),
                              code="image_pixels") from exc
    except UNREADABLE_ERRORS as exc:
        raise ValidationError(ERR_IMAGE_TYPE, code="image_type") from exc
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = truncated_ok
        upload.seek(0)


DRAWING_PREFIX = "data:image/png;base64,"


def drawing_check(data_url: str) -> str:
    """A signature drawn on the consent page arrives as a PNG data URL: the same image check applies."""
    try:
        raw = base64.b64decode(data_url.removeprefix(DRAWING_PREFIX), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationError(ERR_DRAWING, code="drawing") from exc
    try:
        image_check(io.BytesIO(raw), formats=("PNG",))
    except ValidationError as exc:
        if exc.code == "image_pixels":
            raise
        raise ValidationError(ERR_DRAWING, code="drawing") from exc
    return data_url
