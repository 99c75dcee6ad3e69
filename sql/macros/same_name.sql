-- A cooperative's name as compared across years (core.dim_cooperative: a change of name
-- opens a version): no case, and the tone mark of `oa`, `oe` and `uy` on either vowel, the
-- old and the new Vietnamese placement a clerk's keyboard setting chooses (`Hoà` / `Hòa`,
-- `Khoẻ` / `Khỏe`, `Thuý` / `Thúy`). The same letters with the same tone are one name; the
-- shown name keeps its spelling. The eth (`ð`, U+00F0) some input methods type for `đ` is
-- `đ` (etl.text.toneless). NFC text (the reader's), lower-cased first.
create or replace temp macro coop_name_key(name) as
replace(
    replace(
        replace(
            replace(
                replace(
                    replace(
                        replace(
                            replace(
                                replace(
                                    replace(
                                        replace(
                                            replace(
                                                replace(
                                                    replace(
                                                        replace(
                                                            replace(lower(name), 'ð', 'đ'),
                                                            'oà',
                                                            'òa'
                                                        ),
                                                        'oá', 'óa'
                                                    ),
                                                    'oả', 'ỏa'
                                                ),
                                                'oã', 'õa'
                                            ),
                                            'oạ', 'ọa'
                                        ),
                                        'oè', 'òe'
                                    ),
                                    'oé', 'óe'
                                ),
                                'oẻ', 'ỏe'
                            ),
                            'oẽ', 'õe'
                        ),
                        'oẹ', 'ọe'
                    ),
                    'uỳ', 'ùy'
                ),
                'uý', 'úy'
            ),
            'uỷ', 'ủy'
        ),
        'uỹ', 'ũy'
    ),
    'uỵ', 'ụy'
);
