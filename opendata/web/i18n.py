"""The pages' own words in Indonesian and English, and numbers written for each.

Indonesian first: a page is in Indonesian unless ``lang=en`` (or the browser's
``Accept-Language``) asks for English (:mod:`opendata.api.lang` decides, as for the API).
Data (titles and descriptions excepted, which the catalog gives in both languages) is the
sources' own, in Indonesian.
"""

from __future__ import annotations

from datetime import datetime

WORDS: dict[str, tuple[str, str]] = {
    # key: (Indonesian, English)
    "site": ("Statistik Terbuka Kalimantan Selatan", "Open Statistics of South Kalimantan"),
    "tagline": (
        "Satu pintu untuk angka resmi provinsi dan 13 kabupaten/kota.",
        "One door to the official figures of the province and its 13 regencies and cities.",
    ),
    "search": ("Cari", "Search"),
    "search_label": ("Cari data", "Search the data"),
    "search_placeholder": ("mis. kemiskinan, pengangguran, IPM", "e.g. poverty, unemployment"),
    "datasets": ("Data", "Datasets"),
    "topics": ("Data menurut topik", "Datasets by topic"),
    "regions": ("Wilayah", "Regions"),
    "regions_of_kalsel": ("Wilayah Kalimantan Selatan", "Regions of South Kalimantan"),
    "other": ("Lainnya", "Other"),
    "fresh": ("terkini", "up to date"),
    "due": ("jadwal periksa", "check due"),
    "overdue": ("terlambat", "overdue"),
    "failing": ("gagal diperbarui", "failing to update"),
    "never": ("belum dipanen", "not harvested yet"),
    "updated": ("Diperbarui", "Updated"),
    "next_due": ("Pemeriksaan berikutnya", "Next check"),
    "source": ("Sumber", "Source"),
    "license": ("Lisensi", "License"),
    "attribution": ("Atribusi", "Attribution"),
    "unit": ("Satuan", "Unit"),
    "frequency": ("Frekuensi", "Frequency"),
    "annual": ("tahunan", "annual"),
    "semiannual": ("semesteran", "half-yearly"),
    "quarterly": ("triwulanan", "quarterly"),
    "monthly": ("bulanan", "monthly"),
    "chart": ("Grafik", "Chart"),
    "chart_line": ("Garis menurut waktu", "Line over time"),
    "chart_bar": ("Batang menurut wilayah", "Bars by region"),
    "period": ("Periode", "Period"),
    "periods": ("Periode", "Periods"),
    "show": ("Tampilkan", "Show"),
    "choose": ("Pilih wilayah dan rincian", "Choose regions and breakdowns"),
    "table": ("Tabel", "Table"),
    "region": ("Wilayah", "Region"),
    "no_figures": (
        "Tidak ada angka untuk pilihan ini.",
        "There are no figures for this choice.",
    ),
    "too_many": (
        "Hanya {shown} dari {total} angka yang ditampilkan; unduh untuk semuanya.",
        "Only {shown} of {total} figures are shown; download them all.",
    ),
    "downloads": ("Unduh yang ditampilkan", "Download what is shown"),
    "dl_csv": ("CSV", "CSV"),
    "dl_excel_csv": ("CSV untuk Excel (Indonesia)", "CSV for Excel (Indonesian)"),
    "dl_xlsx": ("Excel (XLSX)", "Excel (XLSX)"),
    "dl_wide": ("CSV lebar (periode sebagai kolom)", "Wide CSV (periods as columns)"),
    "dl_jsonstat": ("JSON-stat", "JSON-stat"),
    "dl_sdmx": ("SDMX-ML", "SDMX-ML"),
    "dl_sdmx_csv": ("SDMX-CSV", "SDMX-CSV"),
    "dl_datapackage": ("Data Package", "Data Package"),
    "checksum": ("SHA-256 berkas lengkap", "SHA-256 of the whole file"),
    "whole_csv": ("CSV seluruh data, {rows} baris", "the whole dataset's CSV, {rows} rows"),
    "use_api": ("Pakai di aplikasi Anda", "Use it in your app"),
    "api_url": ("URL API", "API URL"),
    "embed": ("Sematkan grafik", "Embed the chart"),
    "feed": ("Langganan perubahan (Atom)", "Subscribe to changes (Atom)"),
    "targets": ("Target dan capaian", "Targets and achievement"),
    "target": ("Target", "Target"),
    "actual": ("Realisasi", "Actual"),
    "achievement": ("Capaian", "Achievement"),
    "achieved": ("tercapai", "achieved"),
    "not_achieved": ("belum tercapai", "not achieved"),
    "target_set": ("Target dari", "Targets from"),
    "in_figures": ("{name} dalam angka", "{name} in figures"),
    "latest": ("Angka terakhir", "Latest figure"),
    "trend": ("Tren", "Trend"),
    "up": ("naik", "up"),
    "down": ("turun", "down"),
    "same": ("tetap", "unchanged"),
    "parent": ("Wilayah induk", "Parent region"),
    "children": ("Wilayah di bawahnya", "Regions within"),
    "results": (
        "{count} hasil untuk \u201c{query}\u201d",
        "{count} results for \u201c{query}\u201d",
    ),
    "corrected": ("Menampilkan hasil untuk", "Showing results for"),
    "no_results": ("Tidak ada data yang cocok.", "No dataset matches."),
    "filter": ("Saring", "Filter"),
    "facet_source": ("Sumber", "Source"),
    "facet_tag": ("Topik", "Topic"),
    "facet_level": ("Tingkat wilayah", "Region level"),
    "facet_frequency": ("Frekuensi", "Frequency"),
    "pages": ("Halaman", "Pages"),
    "all": ("semua", "all"),
    "language": ("English", "Bahasa Indonesia"),
    "api_docs": ("Dokumentasi API", "API documentation"),
    "not_found": ("Tidak ditemukan", "Not found"),
    "bad_request": ("Permintaan tidak valid", "Bad request"),
    "back_home": ("Kembali ke beranda", "Back to the home page"),
    "flags": ("Tanda", "Flags"),
    "see_dataset": ("Lihat data", "See the dataset"),
    "figures_for": ("Angka {region}", "Figures for {region}"),
    "no_data_region": ("Belum ada data untuk wilayah ini.", "No figures for this region yet."),
    "feed_title": ("Perubahan: {title}", "Changes: {title}"),
    "feed_entry": (
        "{added} angka baru, {changed} direvisi, {withdrawn} ditarik",
        "{added} new figures, {changed} revised, {withdrawn} withdrawn",
    ),
    "more": ("dan {count} lainnya", "and {count} more"),
    "copy": ("Salin", "Copy"),
    "level_country": ("negara", "country"),
    "level_province": ("provinsi", "province"),
    "level_regency": ("kabupaten/kota", "regency/city"),
    "level_district": ("kecamatan", "district"),
}


def word(key: str, lang: str, **values: object) -> str:
    """The page's word for ``key`` in ``lang`` (``id`` or ``en``), filled with ``values``."""
    indonesian, english = WORDS[key]
    text = english if lang == "en" else indonesian
    return text.format(**values) if values else text


_MONTHS = {
    "id": "Jan Feb Mar Apr Mei Jun Jul Agu Sep Okt Nov Des".split(),
    "en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(),
}


def number(text: str | None, lang: str) -> str:
    """A value's exact decimal text written for readers of ``lang``, digit for digit.

    ``683244.50`` is ``683.244,50`` in Indonesian and ``683,244.50`` in English; no digit is
    added, dropped or rounded (the value goes through no float). Empty for a missing value.
    """
    if text is None or text == "":
        return ""
    sign = "-" if text.startswith("-") else ""
    digits = text.lstrip("+-")
    whole, _, fraction = digits.partition(".")
    plain = whole.isdigit() and (not fraction or fraction.isdigit())
    if not plain or (len(whole) > 1 and whole.startswith("0")):
        return text  # not a plain decimal (exponent notation, leading zeros): as stored
    group, point = (".", ",") if lang != "en" else (",", ".")
    grouped = f"{int(whole):,}".replace(",", group) if len(whole) > 3 else whole
    return sign + grouped + (point + fraction if fraction else "")


def moment(value: datetime | None, lang: str) -> str:
    """A UTC time as a reader's date: ``2 Des 2026 07.15 UTC`` / ``2 Dec 2026 07:15 UTC``."""
    if value is None:
        return ""
    month = _MONTHS["en" if lang == "en" else "id"][value.month - 1]
    clock = value.strftime("%H:%M") if lang == "en" else value.strftime("%H.%M")
    return f"{value.day} {month} {value.year} {clock} UTC"
