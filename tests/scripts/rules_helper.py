def tidy(df):
    return df.dropna().reset_index(drop=True)
